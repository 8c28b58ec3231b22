# after: imports
_shared: Any = None
"""The Array a pool worker got from its initializer (a synchronized Array cannot be sent as a task argument)."""


# after: bump_all
def _init_worker(shared: Any) -> None:
    global _shared
    _shared = shared


def _bump_in_worker(times: int) -> None:
    bump_all(_shared, times)


def parallel_bump(initial: Sequence[float], n_processes: int, times: int) -> list[float]:
    """Run ``bump_all(shared, times)`` in ``n_processes`` processes on one ``Array("d", initial)``;
    return the final values."""
    shared = multiprocessing.Array("d", list(initial))
    with multiprocessing.Pool(n_processes, initializer=_init_worker, initargs=(shared,)) as pool:
        pool.map(_bump_in_worker, [times] * n_processes, chunksize=1)
    return list(shared)


def parallel_square(values: Sequence[float], n_processes: int) -> list[float]:
    """Square every value in place in a shared Array, each of ``n_processes`` processes squaring its
    own disjoint slice; return the results."""
    shared = multiprocessing.RawArray("d", list(values))
    size = len(values)
    processes = []
    for i in range(n_processes):
        start, stop = size * i // n_processes, size * (i + 1) // n_processes
        processes.append(multiprocessing.Process(target=square_slice, args=(shared, start, stop)))
    for process in processes:
        process.start()
    for process in processes:
        process.join()
    return list(shared)
