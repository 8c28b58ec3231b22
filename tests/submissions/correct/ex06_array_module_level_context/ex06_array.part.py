# after: imports
CTX = multiprocessing.get_context("forkserver")
"""One context for the whole module: Arrays and Processes from the same start method."""


def bump_all(shared: Any, times: int) -> None:
    """Add 1.0 to every element of ``shared``, ``times`` times; each pass over the array is atomic
    (hold ``shared.get_lock()`` for the whole pass)."""
    for _ in range(times):
        with shared.get_lock():
            raw = shared.get_obj()  # the unsynchronized ctypes array under the lock we already hold
            for index in range(len(raw)):
                raw[index] += 1.0


def _run_all(processes: list) -> None:
    for process in processes:
        process.start()
    for process in processes:
        process.join()


def parallel_bump(initial: Sequence[float], n_processes: int, times: int) -> list[float]:
    """Run ``bump_all(shared, times)`` in ``n_processes`` processes on one ``Array("d", initial)``;
    return the final values."""
    shared = CTX.Array("d", list(initial))
    _run_all([CTX.Process(target=bump_all, args=(shared, times)) for _ in range(n_processes)])
    return list(shared)


def parallel_square(values: Sequence[float], n_processes: int) -> list[float]:
    """Square every value in place in a shared Array, each of ``n_processes`` processes squaring its
    own disjoint slice; return the results."""
    shared = CTX.Array("d", list(values), lock=False)
    size = len(values)
    edges = [size * i // n_processes for i in range(n_processes + 1)]
    _run_all([CTX.Process(target=square_slice, args=(shared, lo, hi)) for lo, hi in zip(edges, edges[1:])])
    return list(shared)
