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
    work = numpy.ascontiguousarray(array, dtype=numpy.result_type(array, factor))
    block = shared_memory.SharedMemory(create=True, size=max(1, work.nbytes))
    try:
        shared = numpy.ndarray(work.shape, dtype=work.dtype, buffer=block.buf)
        shared[...] = work
        size = len(work)
        bounds = [size * i // n_processes for i in range(n_processes + 1)]
        tasks = [(block.name, work.shape, work.dtype.str, bounds[i], bounds[i + 1], factor)
                 for i in range(n_processes)]
        with multiprocessing.Pool(n_processes) as pool:
            pool.starmap(scale_slice, tasks)
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
