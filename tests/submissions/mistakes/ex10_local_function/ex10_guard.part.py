def parallel_counts(limits: Sequence[int], processes: int | None = None) -> list[int]:
    """Return ``[count_primes(limit) for limit in limits]``, computed by a Pool."""
    def count(limit: int) -> int:
        return count_primes(limit)

    with multiprocessing.Pool(processes) as pool:
        return pool.map(count, limits)
