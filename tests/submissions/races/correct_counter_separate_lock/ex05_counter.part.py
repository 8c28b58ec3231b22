# after: increment
def increment_with(counter, n, lock):
    for _ in range(n):
        with lock:
            counter.value += 1


def parallel_count(n_processes: int, n_increments: int) -> int:
    """Run ``increment`` in ``n_processes`` processes on one shared ``Value("i", 0)``; return the final value."""
    counter = multiprocessing.Value("i", 0)
    lock = multiprocessing.Lock()
    processes = [multiprocessing.Process(target=increment_with, args=(counter, n_increments, lock))
                 for _ in range(n_processes)]
    for process in processes:
        process.start()
    for process in processes:
        process.join()
    return counter.value
