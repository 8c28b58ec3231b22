from __future__ import annotations

import ctypes
import multiprocessing
from typing import Any


def parallel_count(n_processes: int, n_increments: int) -> int:
    """Run ``increment`` in ``n_processes`` processes on one shared ``Value("i", 0)``; return the final value."""
    counter = multiprocessing.Value(ctypes.c_int, 0)
    started = []
    try:
        for _ in range(n_processes):
            process = multiprocessing.Process(target=increment, args=(counter, n_increments))
            process.start()
            started.append(process)
    finally:
        for process in started:
            process.join()
    return counter.value
