from __future__ import annotations

import math
import multiprocessing
from multiprocessing import shared_memory

import numpy


def scale_slice(name: str, shape: tuple, dtype: str, start: int, stop: int, factor: float) -> None:
    """Worker: attach to the block ``name`` and multiply ``array[start:stop]`` by ``factor`` in place."""
    existing = shared_memory.SharedMemory(name=name)
    try:
        array = numpy.ndarray(shape, dtype=dtype, buffer=existing.buf)
        array[start:stop] *= factor
        del array
    finally:
        existing.close()


def parallel_scale(array: numpy.ndarray, factor: float, n_processes: int) -> numpy.ndarray:
    """Return ``array * factor``, computed in place in a shared memory block by ``n_processes``
    worker processes on disjoint slices; close and unlink the block before returning."""
    source = numpy.ascontiguousarray(array, dtype=numpy.result_type(array, factor))
    shm = shared_memory.SharedMemory(create=True, size=max(1, source.nbytes))
    try:
        target = numpy.ndarray(source.shape, dtype=source.dtype, buffer=shm.buf)
        target[:] = source[:]
        length = len(source)
        chunk = math.ceil(length / n_processes)
        processes = []
        for i in range(n_processes):
            start = min(i * chunk, length)
            stop = min(start + chunk, length)
            processes.append(multiprocessing.Process(
                target=scale_slice, args=(shm.name, source.shape, source.dtype.str, start, stop, factor)))
        for process in processes:
            process.start()
        for process in processes:
            process.join()
        result = target.copy()
        del target
    finally:
        shm.close()
        shm.unlink()
    return result


if __name__ == "__main__":
    multiprocessing.set_start_method("spawn")
    main()
