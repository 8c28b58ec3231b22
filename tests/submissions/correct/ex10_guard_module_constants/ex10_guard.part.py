from __future__ import annotations

import multiprocessing
import os
from typing import Sequence


# after: LIMITS
DEFAULT_PROCESSES = min(len(LIMITS), os.cpu_count() or 1)


def parallel_counts(limits: Sequence[int], processes: int | None = None) -> list[int]:
    """Return ``[count_primes(limit) for limit in limits]``, computed by a Pool."""
    with multiprocessing.Pool(processes or DEFAULT_PROCESSES) as pool:
        return pool.map(count_primes, limits, chunksize=1)
