"""Exercise 5: a shared counter, and the lock that makes it correct.

Learning goals:
- ``multiprocessing.Value`` is memory shared by processes,
- ``counter.value += 1`` is a read, then a write: two processes can read the
  same old value and one update is lost,
- hold the counter's lock (``with counter.get_lock():``) around the whole
  read-and-write.
"""
from __future__ import annotations

import multiprocessing
from typing import Any


def increment(counter: Any, n: int) -> None:
    """Add 1 to ``counter.value``, ``n`` times, without losing updates when other processes do the same."""
    for _ in range(n):
        with counter.get_lock():
            counter.value += 1


def parallel_count(n_processes: int, n_increments: int) -> int:
    """Run ``increment`` in ``n_processes`` processes on one shared ``Value("i", 0)``; return the final value."""
    counter = multiprocessing.Value("i", 0)
    share = n_increments // n_processes  # the work split among the processes
    processes = [multiprocessing.Process(target=increment, args=(counter, share))
                 for _ in range(n_processes)]
    for process in processes:
        process.start()
    for process in processes:
        process.join()
    return counter.value


def main() -> None:
    print("4 processes x 10000 increments =", parallel_count(4, 10_000))


if __name__ == "__main__":
    main()
