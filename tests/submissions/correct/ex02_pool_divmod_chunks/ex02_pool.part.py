from __future__ import annotations

import multiprocessing
import os
from typing import Any, Callable, Iterable, Sequence


# after: parallel_map
def _count_chunk(chunk: list[int]) -> list[int]:
    """Worker side: count the primes for each limit of one chunk."""
    return [count_primes(limit) for limit in chunk]


def _chunks(values: list[int], parts: int) -> list[list[int]]:
    """Split ``values`` into ``parts`` contiguous chunks whose sizes differ by at most one."""
    size, extra = divmod(len(values), parts)
    chunks, start = [], 0
    for index in range(parts):
        stop = start + size + (1 if index < extra else 0)
        chunks.append(values[start:stop])
        start = stop
    return chunks


def primes_in_ranges(limits: Sequence[int], processes: int | None = None) -> list[int]:
    """Return ``[count_primes(limit) for limit in limits]``, counted in parallel by worker processes."""
    limits = list(limits)
    if not limits:
        return []
    workers = min(processes or os.cpu_count() or 1, len(limits))
    per_chunk = parallel_map(_count_chunk, _chunks(limits, workers), workers)
    return [count for chunk in per_chunk for count in chunk]
