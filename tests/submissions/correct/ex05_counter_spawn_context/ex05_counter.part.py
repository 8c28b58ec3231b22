def parallel_count(n_processes: int, n_increments: int) -> int:
    """Run ``increment`` in ``n_processes`` processes on one shared ``Value("i", 0)``; return the final value."""
    ctx = multiprocessing.get_context("spawn")
    counter = ctx.Value("i", 0)
    processes = [ctx.Process(target=increment, args=(counter, n_increments)) for _ in range(n_processes)]
    for process in processes:
        process.start()
    for process in processes:
        process.join()
    return counter.value
