from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from typing import Any, Callable, Iterable, Sequence


def primes_in_ranges(limits: Sequence[int], processes: int | None = None) -> list[int]:
    """Return ``[count_primes(limit) for limit in limits]``, counted in parallel by worker processes."""
    with ProcessPoolExecutor(max_workers=processes) as executor:
        return list(executor.map(count_primes, limits))
