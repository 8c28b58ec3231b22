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
