from __future__ import annotations

import multiprocessing
from multiprocessing.pool import ThreadPool
from typing import Any, Callable, Iterable, Sequence


def parallel_map(func: Callable[[Any], Any], items: Iterable[Any], processes: int | None = None) -> list:
    """Return ``[func(item) for item in items]``, computed by a Pool of ``processes`` workers, in input order."""
    with ThreadPool(processes) as pool:
        return pool.map(func, items)


def async_squares(numbers: Sequence[int], processes: int | None = None) -> list[int]:
    """Return the squares of ``numbers`` in order, each submitted with ``apply_async`` and read with ``.get()``."""
    with ThreadPool(processes) as pool:
        pending = [pool.apply_async(square, (n,)) for n in numbers]
        return [result.get() for result in pending]
