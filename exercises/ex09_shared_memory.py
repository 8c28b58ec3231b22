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
    # TODO: attach with SharedMemory(name=name), view it as numpy.ndarray(shape, dtype, buffer=shm.buf), scale the slice, then del the view and shm.close()
    raise NotImplementedError


def parallel_scale(array: numpy.ndarray, factor: float, n_processes: int) -> numpy.ndarray:
    """Return ``array * factor``, computed in place in a shared memory block by ``n_processes``
    worker processes on disjoint slices; close and unlink the block before returning."""
    # TODO: create a SharedMemory of array.nbytes, copy the array in, start n_processes Processes running scale_slice on contiguous slices, join them, copy the result out, then close() and unlink()
    raise NotImplementedError


def main() -> None:
    print(parallel_scale(numpy.arange(10.0), 3.0, n_processes=2))


if __name__ == "__main__":
    main()
