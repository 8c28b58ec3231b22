from __future__ import annotations

import enum
import multiprocessing
from typing import Any, Callable, Sequence


# after: imports
class _Signal(enum.Enum):
    """Control messages on the task queue (Enum members unpickle to the same object in every process)."""

    STOP = "stop"


SENTINEL = _Signal.STOP
"""Put on the task queue once per consumer: "no more work"."""
