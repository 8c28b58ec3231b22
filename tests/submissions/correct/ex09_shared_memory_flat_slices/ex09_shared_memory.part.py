def parallel_scale(array: numpy.ndarray, factor: float, n_processes: int) -> numpy.ndarray:
    """Return ``array * factor``, computed in place in a shared memory block by ``n_processes``
    worker processes on disjoint slices; close and unlink the block before returning."""
    flat = numpy.ravel(array).astype(numpy.result_type(array, factor))  # a contiguous 1-D copy
    block = shared_memory.SharedMemory(create=True, size=max(1, flat.nbytes))
    try:
        shared = numpy.ndarray(flat.shape, dtype=flat.dtype, buffer=block.buf)
        shared[:] = flat
        chunks = numpy.array_split(numpy.arange(flat.size), n_processes)
        workers = []
        for chunk in chunks:
            start = int(chunk[0]) if chunk.size else 0
            workers.append(multiprocessing.Process(
                target=scale_slice, args=(block.name, flat.shape, flat.dtype.str, start, start + chunk.size, factor)))
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        result = shared.reshape(numpy.shape(array)).copy()
        del shared
    finally:
        block.close()
        block.unlink()
    return result
