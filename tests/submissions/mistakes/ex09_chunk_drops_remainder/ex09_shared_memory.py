"""Exercise 9: numpy arrays in shared memory.

Learning goals:
- ``multiprocessing.shared_memory.SharedMemory`` is a named block any process can attach to,
- ``numpy.ndarray(shape, dtype, buffer=shm.buf)`` views it without copying,
- workers scale disjoint slices in place,
- every process ``close()``s the block it opened; the creator ``unlink()``s it once.
"""
from __future__ import annotations

import multiprocessing
from multiprocessing import shared_memory

import numpy


def scale_slice(name: str, shape: tuple, dtype: str, start: int, stop: int, factor: float) -> None:
    """Worker: attach to the block ``name`` and multiply ``array[start:stop]`` by ``factor`` in place."""
    block = shared_memory.SharedMemory(name=name)
    try:
        view = numpy.ndarray(shape, dtype=dtype, buffer=block.buf)
        view[start:stop] *= factor
        del view
    finally:
        block.close()


def parallel_scale(array: numpy.ndarray, factor: float, n_processes: int) -> numpy.ndarray:
    """Return ``array * factor``, computed in place in a shared memory block by ``n_processes``
    worker processes on disjoint slices; close and unlink the block before returning."""
    array = numpy.ascontiguousarray(array)
    block = shared_memory.SharedMemory(create=True, size=max(1, array.nbytes))
    try:
        shared = numpy.ndarray(array.shape, dtype=array.dtype, buffer=block.buf)
        shared[:] = array
        size = len(array)
        chunk = size // n_processes
        workers = [multiprocessing.Process(target=scale_slice,
                                           args=(block.name, array.shape, array.dtype.str, i * chunk, (i + 1) * chunk, factor))
                   for i in range(n_processes)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        result = shared.copy()
        del shared
    finally:
        block.close()
        block.unlink()
    return result


def main() -> None:
    print(parallel_scale(numpy.arange(10.0), 3.0, n_processes=2))


if __name__ == "__main__":
    main()
