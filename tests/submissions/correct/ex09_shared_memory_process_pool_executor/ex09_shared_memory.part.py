from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from multiprocessing import shared_memory

import numpy


def scale_slice(name: str, shape: tuple, dtype: str, start: int, stop: int, factor: float) -> None:
    """Worker: attach to the block ``name`` and multiply ``array[start:stop]`` by ``factor`` in place."""
    block = shared_memory.SharedMemory(name=name)
    view = numpy.ndarray(shape, dtype=numpy.dtype(dtype), buffer=block.buf)
    try:
        numpy.multiply(view[start:stop], factor, out=view[start:stop])
    finally:
        del view
        block.close()


def parallel_scale(array: numpy.ndarray, factor: float, n_processes: int) -> numpy.ndarray:
    """Return ``array * factor``, computed in place in a shared memory block by ``n_processes``
    worker processes on disjoint slices; close and unlink the block before returning."""
    dtype = numpy.result_type(array, factor)
    data = numpy.asarray(array, dtype=dtype)
    block = shared_memory.SharedMemory(create=True, size=max(data.nbytes, 1))
    try:
        view = numpy.ndarray(data.shape, dtype=dtype, buffer=block.buf)
        numpy.copyto(view, data)
        edges = [len(data) * k // n_processes for k in range(n_processes + 1)]
        with ProcessPoolExecutor(max_workers=n_processes) as executor:
            futures = [executor.submit(scale_slice, block.name, data.shape, dtype.str, lo, hi, factor)
                       for lo, hi in zip(edges, edges[1:])]
            for future in futures:
                future.result()  # re-raise a worker's error
        out = numpy.array(view, copy=True)
        del view
    finally:
        block.close()
        block.unlink()
    return out
