def parallel_counts(limits: Sequence[int], processes: int | None = None) -> list[int]:
    """Return ``[count_primes(limit) for limit in limits]``, computed by a Pool."""
    pool = multiprocessing.Pool(processes=processes)
    async_result = pool.map_async(count_primes, list(limits))
    pool.close()
    counts = async_result.get()
    pool.join()
    return counts
