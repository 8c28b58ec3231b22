from __future__ import annotations

import multiprocessing
import sys
from typing import Sequence


def parallel_counts(limits: Sequence[int], processes: int | None = None) -> list[int]:
    """Return ``[count_primes(limit) for limit in limits]``, computed by a Pool."""
    pool = multiprocessing.Pool(processes)
    try:
        return pool.map(count_primes, limits)
    finally:
        pool.close()
        pool.join()


def main() -> int:
    counts = parallel_counts(LIMITS)
    for limit, count in zip(LIMITS, counts):
        print(f"primes below {limit}: {count}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
