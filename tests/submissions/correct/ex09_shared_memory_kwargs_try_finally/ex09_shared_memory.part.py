from __future__ import annotations

import multiprocessing
from multiprocessing.shared_memory import SharedMemory

import numpy


def scale_slice(name: str, shape: tuple, dtype: str, start: int, stop: int, factor: float) -> None:
    """Worker: attach to the block ``name`` and multiply ``array[start:stop]`` by ``factor`` in place."""
    shm = SharedMemory(name)
    try:
        data = numpy.ndarray(shape=shape, dtype=dtype, buffer=shm.buf)
        try:
            data[start:stop] = data[start:stop] * factor
        finally:
            del data
    finally:
        shm.close()


def parallel_scale(array: numpy.ndarray, factor: float, n_processes: int) -> numpy.ndarray:
    """Return ``array * factor``, computed in place in a shared memory block by ``n_processes``
    worker processes on disjoint slices; close and unlink the block before returning."""
    result_dtype = numpy.result_type(array, factor)
    shm = SharedMemory(create=True, size=max(1, array.size * result_dtype.itemsize))
    try:
        data = numpy.ndarray(shape=array.shape, dtype=result_dtype, buffer=shm.buf)
        data[:] = array
        n = array.shape[0]
        processes = []
        for i in range(n_processes):
            kwargs = {"name": shm.name, "shape": array.shape, "dtype": result_dtype.name,
                      "start": i * n // n_processes, "stop": (i + 1) * n // n_processes, "factor": factor}
            processes.append(multiprocessing.Process(target=scale_slice, kwargs=kwargs))
        for process in processes:
            process.start()
        for process in processes:
            process.join()
        result = data.copy()
        del data
    finally:
        shm.close()
        shm.unlink()
    return result
