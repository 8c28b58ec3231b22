def parallel_counts(limits: Sequence[int], processes: int | None = None) -> list[int]:
    """Return ``[count_primes(limit) for limit in limits]``, computed by a Pool."""
    with multiprocessing.Pool(processes) as pool:
        return pool.map(count_one, limits)


if __name__ == "__main__":
    def count_one(limit: int) -> int:
        return count_primes(limit)

    main()
