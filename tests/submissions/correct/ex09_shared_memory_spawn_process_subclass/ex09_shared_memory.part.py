# after: scale_slice
class Scaler(multiprocessing.get_context("spawn").Process):
    """A spawned worker that scales one slice of the block."""

    def __init__(self, name: str, shape: tuple, dtype: str, start: int, stop: int, factor: float) -> None:
        super().__init__()
        self.job = (name, shape, dtype, start, stop, factor)

    def run(self) -> None:
        scale_slice(*self.job)


def parallel_scale(array: numpy.ndarray, factor: float, n_processes: int) -> numpy.ndarray:
    """Return ``array * factor``, computed in place in a shared memory block by ``n_processes``
    worker processes on disjoint slices; close and unlink the block before returning."""
    work = numpy.ascontiguousarray(array, dtype=numpy.result_type(array, factor))
    block = shared_memory.SharedMemory(create=True, size=max(1, work.nbytes))
    try:
        shared = numpy.ndarray(work.shape, dtype=work.dtype, buffer=block.buf)
        shared[...] = work
        size = len(work)
        workers = [Scaler(block.name, work.shape, work.dtype.str, size * i // n_processes,
                          size * (i + 1) // n_processes, factor) for i in range(n_processes)]
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
