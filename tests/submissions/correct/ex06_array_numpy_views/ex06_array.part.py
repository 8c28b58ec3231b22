from __future__ import annotations

import multiprocessing
from typing import Any, Sequence

import numpy as np


def bump_all(shared: Any, times: int) -> None:
    """Add 1.0 to every element of ``shared``, ``times`` times; each pass over the array is atomic
    (hold ``shared.get_lock()`` for the whole pass)."""
    view = np.frombuffer(shared.get_obj(), dtype=np.float64)  # no copy: the shared doubles themselves
    for _ in range(times):
        with shared.get_lock():
            view += 1.0


def parallel_bump(initial: Sequence[float], n_processes: int, times: int) -> list[float]:
    """Run ``bump_all(shared, times)`` in ``n_processes`` processes on one ``Array("d", initial)``;
    return the final values."""
    shared = multiprocessing.Array("d", list(initial))
    processes = [multiprocessing.Process(target=bump_all, args=(shared, times)) for _ in range(n_processes)]
    for process in processes:
        process.start()
    for process in processes:
        process.join()
    return np.frombuffer(shared.get_obj(), dtype=np.float64).tolist()


def square_slice(shared: Any, start: int, stop: int) -> None:
    """Square ``shared[start:stop]`` in place (no lock: no other process touches these elements)."""
    view = np.frombuffer(shared, dtype=np.float64)
    np.square(view[start:stop], out=view[start:stop])


def parallel_square(values: Sequence[float], n_processes: int) -> list[float]:
    """Square every value in place in a shared Array, each of ``n_processes`` processes squaring its
    own disjoint slice; return the results."""
    shared = multiprocessing.Array("d", list(values), lock=False)
    chunks = np.array_split(np.arange(len(values)), n_processes)
    processes = [multiprocessing.Process(target=square_slice,
                                         args=(shared, int(chunk[0]) if len(chunk) else 0,
                                               int(chunk[-1]) + 1 if len(chunk) else 0))
                 for chunk in chunks]
    for process in processes:
        process.start()
    for process in processes:
        process.join()
    return np.frombuffer(shared, dtype=np.float64).tolist()
