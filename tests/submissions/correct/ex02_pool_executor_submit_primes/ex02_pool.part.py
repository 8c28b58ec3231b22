from __future__ import annotations

import concurrent.futures
import multiprocessing
from typing import Any, Callable, Iterable, Sequence


def parallel_map(func: Callable[[Any], Any], items: Iterable[Any], processes: int | None = None) -> list:
    """Return ``[func(item) for item in items]``, computed by a Pool of ``processes`` workers, in input order."""
    with multiprocessing.Pool(processes) as pool:
        return pool.map(func, items, chunksize=1)


def primes_in_ranges(limits: Sequence[int], processes: int | None = None) -> list[int]:
    """Return ``[count_primes(limit) for limit in limits]``, counted in parallel by worker processes."""
    with concurrent.futures.ProcessPoolExecutor(processes) as executor:
        futures = [executor.submit(count_primes, limit) for limit in limits]
        return [future.result() for future in futures]
