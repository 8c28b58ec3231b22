"""Exercise 10: the ``if __name__ == "__main__":`` guard.

This script counts primes with a Pool. As given, it works on Linux with the
old ``fork`` start method and breaks everywhere else (macOS, Windows,
Python 3.14): it does its work at import time, and under spawn every worker
process imports the script again; and it hands the Pool a lambda, which
cannot be pickled to send to a worker.

Learning goals:
- code at the top level of a module runs on every import, including in each
  spawned worker: keep only definitions there, and start work in ``main()``
  under ``if __name__ == "__main__":``,
- give a Pool module-level functions (they pickle by name), not lambdas or
  local functions.
"""
from __future__ import annotations

import multiprocessing
from multiprocessing.pool import ThreadPool
from typing import Sequence

LIMITS = [20_000, 40_000, 60_000, 80_000]


def is_prime(n: int) -> bool:
    """True when ``n`` is prime (given)."""
    if n < 2:
        return False
    if n % 2 == 0:
        return n == 2
    divisor = 3
    while divisor * divisor <= n:
        if n % divisor == 0:
            return False
        divisor += 2
    return True


def count_primes(limit: int) -> int:
    """Count the primes below ``limit`` (given)."""
    return sum(1 for n in range(limit) if is_prime(n))


def parallel_counts(limits: Sequence[int], processes: int | None = None) -> list[int]:
    """Return ``[count_primes(limit) for limit in limits]``, computed by a Pool."""
    with ThreadPool(processes) as pool:
        return pool.map(lambda limit: count_primes(limit), limits)


def main() -> None:
    counts = parallel_counts(LIMITS)
    for limit, count in zip(LIMITS, counts):
        print(f"primes below {limit}: {count}")


if __name__ == "__main__":
    main()
