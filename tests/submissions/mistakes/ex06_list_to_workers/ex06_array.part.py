def parallel_square(values: Sequence[float], n_processes: int) -> list[float]:
    """Square every value in place in a shared Array, each of ``n_processes`` processes squaring its
    own disjoint slice; return the results."""
    shared = multiprocessing.Array("d", list(values), lock=False)
    size = len(values)
    bounds = [size * i // n_processes for i in range(n_processes + 1)]
    processes = [multiprocessing.Process(target=square_slice, args=(values, bounds[i], bounds[i + 1]))
                 for i in range(n_processes)]
    for process in processes:
        process.start()
    for process in processes:
        process.join()
    return list(shared)
