def parallel_square(values: Sequence[float], n_processes: int) -> list[float]:
    """Square every value in place in a shared Array, each of ``n_processes`` processes squaring its
    own disjoint slice; return the results."""
    shared = multiprocessing.Array("d", list(values), lock=False)
    chunk = len(values) // n_processes
    processes = [multiprocessing.Process(target=square_slice, args=(shared, i * chunk, (i + 1) * chunk))
                 for i in range(n_processes)]
    for process in processes:
        process.start()
    for process in processes:
        process.join()
    return list(shared)
