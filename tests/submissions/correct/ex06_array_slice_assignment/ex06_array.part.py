from __future__ import annotations

import itertools
import multiprocessing
from typing import Any, Sequence


def bump_all(shared: Any, times: int) -> None:
    """Add 1.0 to every element of ``shared``, ``times`` times; each pass over the array is atomic
    (hold ``shared.get_lock()`` for the whole pass)."""
    for _ in range(times):
        with shared:  # a synchronized Array is its own context manager: it takes shared.get_lock()
            shared[:] = [value + 1.0 for value in shared[:]]


def parallel_bump(initial: Sequence[float], n_processes: int, times: int) -> list[float]:
    """Run ``bump_all(shared, times)`` in ``n_processes`` processes on one ``Array("d", initial)``;
    return the final values."""
    shared = multiprocessing.Array("d", list(initial))
    processes = [multiprocessing.Process(target=bump_all, args=(shared, times), name=f"bumper-{i}")
                 for i in range(n_processes)]
    for process in processes:
        process.start()
    for process in processes:
        process.join()
    with shared.get_lock():
        return shared[:]


def square_slice(shared: Any, start: int, stop: int) -> None:
    """Square ``shared[start:stop]`` in place (no lock: no other process touches these elements)."""
    shared[start:stop] = [value * value for value in shared[start:stop]]


def parallel_square(values: Sequence[float], n_processes: int) -> list[float]:
    """Square every value in place in a shared Array, each of ``n_processes`` processes squaring its
    own disjoint slice; return the results."""
    shared = multiprocessing.Array("d", list(values), lock=False)
    base, extra = divmod(len(values), n_processes)
    sizes = [base + 1] * extra + [base] * (n_processes - extra)
    stops = list(itertools.accumulate(sizes))
    starts = [0] + stops[:-1]
    processes = [multiprocessing.Process(target=square_slice, args=(shared, start, stop))
                 for start, stop in zip(starts, stops)]
    for process in processes:
        process.start()
    for process in processes:
        process.join()
    return shared[:]
