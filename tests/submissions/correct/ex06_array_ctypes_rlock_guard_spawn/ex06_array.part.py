from __future__ import annotations

import ctypes
import multiprocessing
from typing import Any, Sequence


def parallel_bump(initial: Sequence[float], n_processes: int, times: int) -> list[float]:
    """Run ``bump_all(shared, times)`` in ``n_processes`` processes on one ``Array("d", initial)``;
    return the final values."""
    lock = multiprocessing.RLock()
    shared = multiprocessing.Array(ctypes.c_double, list(initial), lock=lock)
    processes = []
    for _ in range(n_processes):
        processes.append(multiprocessing.Process(target=bump_all, args=(shared, times)))
    for process in processes:
        process.start()
    for process in reversed(processes):
        process.join()
    return list(shared.get_obj())


def square_slice(shared: Any, start: int, stop: int) -> None:
    """Square ``shared[start:stop]`` in place (no lock: no other process touches these elements)."""
    for index in range(start, stop):
        value = shared[index]
        shared[index] = value * value


def parallel_square(values: Sequence[float], n_processes: int) -> list[float]:
    """Square every value in place in a shared Array, each of ``n_processes`` processes squaring its
    own disjoint slice; return the results."""
    shared = multiprocessing.Array(ctypes.c_double, list(values), lock=False)
    size = len(values)
    processes = []
    start = 0
    for i in range(n_processes):
        stop = start + (size - start) // (n_processes - i)  # share what is left evenly among the rest
        processes.append(multiprocessing.Process(target=square_slice, args=(shared, start, stop)))
        start = stop
    for process in processes:
        process.start()
    for process in reversed(processes):
        process.join()
    return list(shared)


if __name__ == "__main__":
    multiprocessing.set_start_method("spawn")
    main()
