"""Exercise 6: a shared Array, with and without a lock.

Learning goals:
- ``multiprocessing.Array("d", values)`` is a block of doubles shared by processes,
- an update of several elements is atomic only if one lock is held for all of it,
- processes that write disjoint slices never touch the same element, so they
  need no lock at all.
"""
from __future__ import annotations

import multiprocessing
from typing import Any, Sequence


def bump_all(shared: Any, times: int) -> None:
    """Add 1.0 to every element of ``shared``, ``times`` times; each pass over the array is atomic
    (hold ``shared.get_lock()`` for the whole pass)."""
    for _ in range(times):
        with shared.get_lock():
            for index in range(len(shared)):
                shared[index] += 1.0


def parallel_bump(initial: Sequence[float], n_processes: int, times: int) -> list[float]:
    """Run ``bump_all(shared, times)`` in ``n_processes`` processes on one ``Array("d", initial)``;
    return the final values."""
    shared = multiprocessing.Array("d", list(initial))
    processes = [multiprocessing.Process(target=bump_all, args=(shared, times)) for _ in range(n_processes)]
    for process in processes:
        process.start()
    for process in processes:
        process.join()
    return list(shared)


def square_slice(shared: Any, start: int, stop: int) -> None:
    """Square ``shared[start:stop]`` in place (no lock: no other process touches these elements)."""
    for index in range(start, stop):
        shared[index] = shared[index] * shared[index]


def parallel_square(values: Sequence[float], n_processes: int) -> list[float]:
    """Square every value in place in a shared Array, each of ``n_processes`` processes squaring its
    own disjoint slice; return the results."""
    shared = multiprocessing.Array("d", list(values), lock=False)
    chunk = len(values) // n_processes
    processes = [multiprocessing.Process(target=square_slice, args=(shared, i * chunk, (i + 1) * chunk))
                 for i in range(n_processes)]
    for process in processes:
        process.start()
    for process in processes:
        process.join()
    return list(shared)


def main() -> None:
    print(parallel_bump([0.0, 10.0, 20.0], n_processes=3, times=100))
    print(parallel_square([1.0, 2.0, 3.0, 4.0, 5.0], n_processes=2))


if __name__ == "__main__":
    main()
