from __future__ import annotations

import multiprocessing
from multiprocessing import shared_memory
from multiprocessing.managers import SharedMemoryManager

import numpy


def parallel_scale(array: numpy.ndarray, factor: float, n_processes: int) -> numpy.ndarray:
    """Return ``array * factor``, computed in place in a shared memory block by ``n_processes``
    worker processes on disjoint slices; close and unlink the block before returning."""
    work = numpy.ascontiguousarray(array, dtype=numpy.result_type(array, factor))
    size = len(work)
    with SharedMemoryManager() as smm:  # unlinks every block it made when the with-block ends
        block = smm.SharedMemory(size=max(1, work.nbytes))
        shared = numpy.ndarray(work.shape, dtype=work.dtype, buffer=block.buf)
        shared[...] = work
        workers = [multiprocessing.Process(target=scale_slice,
                                           args=(block.name, work.shape, work.dtype.str,
                                                 size * i // n_processes, size * (i + 1) // n_processes, factor))
                   for i in range(n_processes)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        result = shared.copy()
        del shared
        block.close()
    return result
