def parallel_count(n_processes: int, n_increments: int) -> int:
    """Run ``increment`` in ``n_processes`` processes on one shared ``Value("i", 0)``; return the final value."""
    counter = multiprocessing.Value("i", 0)
    procs = [multiprocessing.Process(target=increment, kwargs={"counter": counter, "n": n_increments})
             for _ in range(n_processes)]
    [p.start() for p in procs]
    [p.join() for p in procs]
    return counter.value
