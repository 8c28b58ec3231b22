def primes_in_ranges(limits: Sequence[int], processes: int | None = None) -> list[int]:
    """Return ``[count_primes(limit) for limit in limits]``, counted in parallel by worker processes."""
    from multiprocessing.pool import ThreadPool

    with ThreadPool(processes) as pool:
        return pool.map(count_primes, limits)
