def scale_slice(name: str, shape: tuple, dtype: str, start: int, stop: int, factor: float) -> None:
    """Worker: attach to the block ``name`` and multiply ``array[start:stop]`` by ``factor`` in place."""
    block = shared_memory.SharedMemory(name=name, create=False)
    view = numpy.ndarray(shape, dtype=dtype, buffer=block.buf)
    part = view[start:stop]
    numpy.multiply(part, factor, out=part, casting="same_kind")
    del part, view
    block.close()


def _slices(length: int, parts: int) -> list[tuple[int, int]]:
    base, extra = divmod(length, parts)
    result, start = [], 0
    for index in range(parts):
        stop = start + base + (1 if index < extra else 0)
        result.append((start, stop))
        start = stop
    return result


def parallel_scale(array: numpy.ndarray, factor: float, n_processes: int) -> numpy.ndarray:
    """Return ``array * factor``, computed in place in a shared memory block by ``n_processes``
    worker processes on disjoint slices; close and unlink the block before returning."""
    dtype = numpy.result_type(array, factor)
    block = shared_memory.SharedMemory(create=True, size=max(1, int(numpy.prod(array.shape)) * dtype.itemsize))
    try:
        view = numpy.ndarray(array.shape, dtype=dtype, buffer=block.buf)
        view[...] = array
        workers = [multiprocessing.Process(target=scale_slice,
                                           args=(block.name, tuple(array.shape), dtype.str, lo, hi, factor))
                   for lo, hi in _slices(array.shape[0], n_processes)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        scaled = numpy.copy(view)
        del view
    finally:
        block.close()
        block.unlink()
    return scaled


if __name__ == "__main__":
    multiprocessing.freeze_support()
    main()
