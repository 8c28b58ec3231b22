"""Exercise 2: a Pool of worker processes.

Learning goals:
- use ``multiprocessing.Pool`` as a context manager, so its workers are cleaned up,
- ``map`` keeps results in input order,
- hand CPU-bound work (``count_primes``) to worker processes, not threads,
- ``apply_async`` returns an ``AsyncResult`` at once; ``.get()`` waits for its value.
"""
from __future__ import annotations

import multiprocessing
from typing import Any, Callable, Iterable, Sequence


def count_primes(limit: int) -> int:
    """Count the primes below ``limit`` by trial division (given; deliberately CPU-bound)."""
    count = 0
    for n in range(2, limit):
        if n < 4:
            count += 1
            continue
        if n % 2 == 0:
            continue
        divisor = 3
        while divisor * divisor <= n:
            if n % divisor == 0:
                break
            divisor += 2
        else:
            count += 1
    return count


def square(n: int) -> int:
    """Return ``n * n`` (given; the work for ``async_squares``)."""
    return n * n


def parallel_map(func: Callable[[Any], Any], items: Iterable[Any], processes: int | None = None) -> list:
    """Return ``[func(item) for item in items]``, computed by a Pool of ``processes`` workers, in input order."""
    # BEGIN SOLUTION: open multiprocessing.Pool(processes) in a with-block and return pool.map(func, items)
    with multiprocessing.Pool(processes) as pool:
        return pool.map(func, items)
    # END SOLUTION


def primes_in_ranges(limits: Sequence[int], processes: int | None = None) -> list[int]:
    """Return ``[count_primes(limit) for limit in limits]``, counted in parallel by worker processes."""
    # BEGIN SOLUTION: count_primes for every limit, in worker processes (parallel_map does the job)
    return parallel_map(count_primes, limits, processes)
    # END SOLUTION


def _square_next(queue: Any) -> int:
    return square(queue.get())


def async_squares(numbers: Sequence[int], processes: int | None = None) -> list[int]:
    """Return the squares of ``numbers`` in order, each submitted with ``apply_async`` and read with ``.get()``."""
    # BEGIN SOLUTION: in a Pool's with-block, call pool.apply_async(square, (n,)) for every n first, then .get() each result in order
    with multiprocessing.Manager() as manager:
        queue = manager.Queue()
        with multiprocessing.Pool(processes) as pool:
            pending = [pool.apply_async(_square_next, (queue,)) for _ in numbers]
            return [result.get() for result in pending]
    # END SOLUTION


def main() -> None:
    print("squares:", parallel_map(square, range(10), processes=2))
    print("primes below 10k, 20k, 30k:", primes_in_ranges([10_000, 20_000, 30_000]))
    print("async squares:", async_squares([3, 1, 4, 1, 5]))


if __name__ == "__main__":
    main()
