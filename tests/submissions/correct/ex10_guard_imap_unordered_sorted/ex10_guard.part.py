# after: count_primes
def _count_at(pair: tuple[int, int]) -> tuple[int, int]:
    """(index, count_primes(limit)) for an (index, limit) pair: runs in a pool worker."""
    index, limit = pair
    return index, count_primes(limit)


def parallel_counts(limits: Sequence[int], processes: int | None = None) -> list[int]:
    """Return ``[count_primes(limit) for limit in limits]``, computed by a Pool."""
    with multiprocessing.Pool(processes) as pool:
        indexed = list(pool.imap_unordered(_count_at, enumerate(limits)))
    return [count for _, count in sorted(indexed)]
