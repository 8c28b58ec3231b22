def parallel_counts(limits: Sequence[int], processes: int | None = None) -> list[int]:
    """Return ``[count_primes(limit) for limit in limits]``, computed by a Pool."""
    context = multiprocessing.get_context("spawn")
    with context.Pool(processes=processes) as pool:
        return pool.map(count_primes, limits)


if "__main__" == __name__:
    main()
