def bump_all(shared: Any, times: int) -> None:
    """Add 1.0 to every element of ``shared``, ``times`` times; each pass over the array is atomic
    (hold ``shared.get_lock()`` for the whole pass)."""
    size = len(shared)
    for _ in range(times):
        with shared.get_lock():
            for i in range(size):
                shared[i] = shared[i] + 1.0


def parallel_bump(initial: Sequence[float], n_processes: int, times: int) -> list[float]:
    """Run ``bump_all(shared, times)`` in ``n_processes`` processes on one ``Array("d", initial)``;
    return the final values."""
    ctx = multiprocessing.get_context("spawn")
    shared = ctx.Array("d", list(initial))
    workers = [ctx.Process(target=bump_all, args=(shared, times)) for _ in range(n_processes)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return shared[:]


def square_slice(shared: Any, start: int, stop: int) -> None:
    """Square ``shared[start:stop]`` in place (no lock: no other process touches these elements)."""
    for i in range(start, stop):
        value = shared[i]
        shared[i] = value * value


def _chunk_bounds(size: int, parts: int) -> list[tuple[int, int]]:
    """Split range(size) into ``parts`` contiguous (start, stop) pairs; the first ``size % parts`` get one more."""
    base, extra = divmod(size, parts)
    bounds = []
    start = 0
    for part in range(parts):
        stop = start + base + (1 if part < extra else 0)
        bounds.append((start, stop))
        start = stop
    return bounds


def parallel_square(values: Sequence[float], n_processes: int) -> list[float]:
    """Square every value in place in a shared Array, each of ``n_processes`` processes squaring its
    own disjoint slice; return the results."""
    ctx = multiprocessing.get_context("spawn")
    shared = ctx.Array("d", list(values), lock=False)
    workers = [ctx.Process(target=square_slice, args=(shared, start, stop))
               for start, stop in _chunk_bounds(len(values), n_processes)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return shared[:]
