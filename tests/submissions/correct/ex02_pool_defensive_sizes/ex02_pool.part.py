from __future__ import annotations

import multiprocessing
import os
from typing import Any, Callable, Iterable, Sequence


# after: square
def _worker_count(processes: int | None, n_items: int) -> int:
    """How many workers to start: the number asked for (or one per CPU), but never more than the items."""
    wanted = processes if processes is not None else (os.cpu_count() or 1)
    return max(1, min(wanted, n_items))


def parallel_map(func: Callable[[Any], Any], items: Iterable[Any], processes: int | None = None) -> list:
    """Return ``[func(item) for item in items]``, computed by a Pool of ``processes`` workers, in input order."""
    items = list(items)
    if not items:
        return []
    with multiprocessing.Pool(_worker_count(processes, len(items))) as pool:
        return pool.map(func, items)


def async_squares(numbers: Sequence[int], processes: int | None = None) -> list[int]:
    """Return the squares of ``numbers`` in order, each submitted with ``apply_async`` and read with ``.get()``."""
    numbers = list(numbers)
    if not numbers:
        return []
    with multiprocessing.Pool(_worker_count(processes, len(numbers))) as pool:
        pending = [pool.apply_async(square, (n,)) for n in numbers]
        return [result.get() for result in pending]
