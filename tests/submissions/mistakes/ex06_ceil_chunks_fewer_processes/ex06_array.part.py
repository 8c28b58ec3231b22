from __future__ import annotations

import math
import multiprocessing
from typing import Any, Sequence


def parallel_square(values: Sequence[float], n_processes: int) -> list[float]:
    """Square every value in place in a shared Array, each of ``n_processes`` processes squaring its
    own disjoint slice; return the results."""
    shared = multiprocessing.Array("d", list(values), lock=False)
    size = len(values)
    chunk = max(1, math.ceil(size / n_processes))
    processes = [multiprocessing.Process(target=square_slice, args=(shared, start, min(start + chunk, size)))
                 for start in range(0, size, chunk)]
    for process in processes:
        process.start()
    for process in processes:
        process.join()
    return list(shared)
