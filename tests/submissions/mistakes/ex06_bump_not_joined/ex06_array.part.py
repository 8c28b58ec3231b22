def parallel_bump(initial: Sequence[float], n_processes: int, times: int) -> list[float]:
    """Run ``bump_all(shared, times)`` in ``n_processes`` processes on one ``Array("d", initial)``;
    return the final values."""
    shared = multiprocessing.Array("d", list(initial))
    processes = [multiprocessing.Process(target=bump_all, args=(shared, times)) for _ in range(n_processes)]
    for process in processes:
        process.start()
    return list(shared)
