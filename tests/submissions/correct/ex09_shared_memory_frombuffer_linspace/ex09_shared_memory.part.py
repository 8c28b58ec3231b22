def scale_slice(name: str, shape: tuple, dtype: str, start: int, stop: int, factor: float) -> None:
    """Worker: attach to the block ``name`` and multiply ``array[start:stop]`` by ``factor`` in place."""
    shm = shared_memory.SharedMemory(name=name)
    count = int(numpy.prod(shape))
    flat = numpy.frombuffer(shm.buf, dtype=dtype, count=count)
    arr = flat.reshape(shape)
    arr[start:stop] *= factor
    del arr, flat
    shm.close()


def parallel_scale(array: numpy.ndarray, factor: float, n_processes: int) -> numpy.ndarray:
    """Return ``array * factor``, computed in place in a shared memory block by ``n_processes``
    worker processes on disjoint slices; close and unlink the block before returning."""
    src = numpy.asarray(array)
    src = src.astype(numpy.result_type(src, factor), copy=False)
    shm = shared_memory.SharedMemory(create=True, size=max(1, src.nbytes))
    try:
        buf = numpy.frombuffer(shm.buf, dtype=src.dtype, count=src.size).reshape(src.shape)
        buf[...] = src
        edges = numpy.linspace(0, len(src), n_processes + 1).astype(int)
        procs = [multiprocessing.Process(target=scale_slice,
                                         args=(shm.name, src.shape, str(src.dtype), int(a), int(b), factor))
                 for a, b in zip(edges[:-1], edges[1:])]
        for p in procs:
            p.start()
        for p in procs:
            p.join()
        out = buf.copy()
        del buf
    finally:
        shm.close()
        shm.unlink()
    return out
