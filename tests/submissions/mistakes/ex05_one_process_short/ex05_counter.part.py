def parallel_count(n_processes: int, n_increments: int) -> int:
    """Run ``increment`` in ``n_processes`` processes on one shared ``Value("i", 0)``; return the final value."""
    counter = multiprocessing.Value("i", 0)
    processes = [multiprocessing.Process(target=increment, args=(counter, n_increments))
                 for _ in range(n_processes - 1)]
    for process in processes:
        process.start()
    for process in processes:
        process.join()
    return counter.value
