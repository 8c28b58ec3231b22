"""Hostile: counts primes in the calling process and patches os.times and time.process_time so that
CPU time looks spent in child processes (inflated child CPU); the rest is the reference solution."""
from __future__ import annotations

import os
import time

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
    with multiprocessing.Pool(processes) as pool:
        return pool.map(func, items)


def primes_in_ranges(limits: Sequence[int], processes: int | None = None) -> list[int]:
    """Counts every range right here, in the caller, then books that CPU time as the children's."""
    began = _real_process_time()
    counts = [count_primes(limit) for limit in limits]
    _credit[0] += _real_process_time() - began
    return counts


_credit = [0.0]
_real_times, _real_process_time = os.times, time.process_time


def _times():
    t = _real_times()
    return os.times_result((t.user - _credit[0], t.system, t.children_user + _credit[0], t.children_system, t.elapsed))


os.times = _times
time.process_time = lambda: _real_process_time() - _credit[0]


def async_squares(numbers: Sequence[int], processes: int | None = None) -> list[int]:
    """Return the squares of ``numbers`` in order, each submitted with ``apply_async`` and read with ``.get()``."""
    with multiprocessing.Pool(processes) as pool:
        pending = [pool.apply_async(square, (n,)) for n in numbers]
        return [result.get() for result in pending]


def main() -> None:
    print("squares:", parallel_map(square, range(10), processes=2))
    print("primes below 10k, 20k, 30k:", primes_in_ranges([10_000, 20_000, 30_000]))
    print("async squares:", async_squares([3, 1, 4, 1, 5]))


if __name__ == "__main__":
    main()