def scale_slice(name: str, shape: tuple, dtype: str, start: int, stop: int, factor: float) -> None:
    """Worker: attach to the block ``name`` and multiply ``array[start:stop]`` by ``factor`` in place."""
    block = shared_memory.SharedMemory(name=name)
    try:
        view = numpy.ndarray(shape, dtype=dtype, buffer=block.buf)
        scaled = view[start:stop] * factor
        del view
    finally:
        block.close()
