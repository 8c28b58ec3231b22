from __future__ import annotations

from multiprocessing import Pool
from typing import Any, Callable, Iterable, Sequence


def parallel_map(func: Callable[[Any], Any], items: Iterable[Any], processes: int | None = None) -> list:
    """Return ``[func(item) for item in items]``, computed by a Pool of ``processes`` workers, in input order."""
    with Pool(processes) as workers:
        mapped = workers.map(func, items)
    return mapped


def primes_in_ranges(limits: Sequence[int], processes: int | None = None) -> list[int]:
    """Return ``[count_primes(limit) for limit in limits]``, counted in parallel by worker processes."""
    with Pool(processes) as workers:
        return workers.map(count_primes, limits, chunksize=1)


def async_squares(numbers: Sequence[int], processes: int | None = None) -> list[int]:
    """Return the squares of ``numbers`` in order, each submitted with ``apply_async`` and read with ``.get()``."""
    with Pool(processes) as workers:
        futures = [workers.apply_async(square, kwds={"n": n}) for n in numbers]
        return [future.get() for future in futures]
