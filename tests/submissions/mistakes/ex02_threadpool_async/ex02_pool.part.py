from __future__ import annotations

import multiprocessing
import multiprocessing.pool
from typing import Any, Callable, Iterable, Sequence


def async_squares(numbers: Sequence[int], processes: int | None = None) -> list[int]:
    """Return the squares of ``numbers`` in order, each submitted with ``apply_async`` and read with ``.get()``."""
    with multiprocessing.pool.ThreadPool(processes) as pool:
        pending = [pool.apply_async(square, (n,)) for n in numbers]
        return [result.get() for result in pending]
