from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor, wait
from typing import Any, Sequence


# after: imports
_worker_array: Any = None


def bump_all(shared: Any, times: int) -> None:
    """Add 1.0 to every element of ``shared``, ``times`` times; each pass over the array is atomic
    (hold ``shared.get_lock()`` for the whole pass)."""
    n = len(shared)
    for _ in range(times):
        with shared.get_lock():
            for index in range(n):
                shared[index] += 1.0


def _attach(shared: Any) -> None:
    global _worker_array
    _worker_array = shared


def _bump_task(times: int) -> None:
    bump_all(_worker_array, times)


def parallel_bump(initial: Sequence[float], n_processes: int, times: int) -> list[float]:
    """Run ``bump_all(shared, times)`` in ``n_processes`` processes on one ``Array("d", initial)``;
    return the final values."""
    shared = multiprocessing.Array("d", list(initial))
    with ProcessPoolExecutor(max_workers=n_processes, initializer=_attach, initargs=(shared,)) as executor:
        futures = [executor.submit(_bump_task, times) for _ in range(n_processes)]
        wait(futures)
        for future in futures:
            future.result()  # re-raise a worker's error, if any
    return list(shared)


def square_slice(shared: Any, start: int, stop: int) -> None:
    """Square ``shared[start:stop]`` in place (no lock: no other process touches these elements)."""
    index = start
    while index < stop:
        shared[index] = shared[index] * shared[index]
        index += 1


def parallel_square(values: Sequence[float], n_processes: int) -> list[float]:
    """Square every value in place in a shared Array, each of ``n_processes`` processes squaring its
    own disjoint slice; return the results."""
    count = len(values)
    shared = multiprocessing.Array("d", count, lock=False)
    shared[:] = list(values)
    bounds = [round(count * i / n_processes) for i in range(n_processes + 1)]
    processes = [multiprocessing.Process(target=square_slice, args=(shared, lo, hi))
                 for lo, hi in zip(bounds, bounds[1:])]
    for process in processes:
        process.start()
    for process in processes:
        process.join()
    return list(shared)
