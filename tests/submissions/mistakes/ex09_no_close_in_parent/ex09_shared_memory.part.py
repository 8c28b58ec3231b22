def parallel_scale(array: numpy.ndarray, factor: float, n_processes: int) -> numpy.ndarray:
    """Return ``array * factor``, computed in place in a shared memory block by ``n_processes``
    worker processes on disjoint slices; close and unlink the block before returning."""
    array = numpy.ascontiguousarray(array)
    block = shared_memory.SharedMemory(create=True, size=max(1, array.nbytes))
    try:
        shared = numpy.ndarray(array.shape, dtype=array.dtype, buffer=block.buf)
        shared[:] = array
        size = len(array)
        bounds = [size * i // n_processes for i in range(n_processes + 1)]
        workers = [multiprocessing.Process(target=scale_slice,
                                           args=(block.name, array.shape, array.dtype.str, bounds[i], bounds[i + 1], factor))
                   for i in range(n_processes)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        result = shared.copy()
        del shared
    finally:
        block.unlink()
    return result
