from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor as ProcessPoolExecutor, as_completed
from typing import Any, Callable, Sequence
