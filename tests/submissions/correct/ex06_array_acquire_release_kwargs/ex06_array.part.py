from __future__ import annotations

import math
import multiprocessing
from typing import Any, Sequence


def bump_all(shared: Any, times: int) -> None:
    """Add 1.0 to every element of ``shared``, ``times`` times; each pass over the array is atomic
    (hold ``shared.get_lock()`` for the whole pass)."""
    lock = shared.get_lock()
    for _ in range(times):
        lock.acquire()
        try:
            for index in range(len(shared)):
                shared[index] += 1.0
        finally:
            lock.release()


def parallel_bump(initial: Sequence[float], n_processes: int, times: int) -> list[float]:
    """Run ``bump_all(shared, times)`` in ``n_processes`` processes on one ``Array("d", initial)``;
    return the final values."""
    shared = multiprocessing.Array("d", [float(x) for x in initial])
    processes = []
    for _ in range(n_processes):
        process = multiprocessing.Process(target=bump_all, kwargs={"shared": shared, "times": times})
        process.start()
        processes.append(process)
    for process in processes:
        process.join()
    return [shared[i] for i in range(len(shared))]


def square_slice(shared: Any, start: int, stop: int) -> None:
    """Square ``shared[start:stop]`` in place (no lock: no other process touches these elements)."""
    for index in range(start, stop):
        shared[index] **= 2


def parallel_square(values: Sequence[float], n_processes: int) -> list[float]:
    """Square every value in place in a shared Array, each of ``n_processes`` processes squaring its
    own disjoint slice; return the results."""
    size = len(values)
    shared = multiprocessing.Array("d", [float(x) for x in values], lock=False)
    chunk = math.ceil(size / n_processes) if size else 0
    processes = []
    for i in range(n_processes):
        start = min(i * chunk, size)
        stop = min(start + chunk, size)
        processes.append(multiprocessing.Process(target=square_slice,
                                                 kwargs={"shared": shared, "start": start, "stop": stop}))
    for process in processes:
        process.start()
    for process in processes:
        process.join()
    return [shared[i] for i in range(size)]
