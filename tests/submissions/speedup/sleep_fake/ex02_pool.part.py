# after: count_primes
def _nap(limit: int) -> None:
    import time

    time.sleep(0.05)


def _fast_count(limit: int) -> int:
    sieve = bytearray([1]) * limit
    sieve[0:2] = b"\x00\x00"
    for n in range(2, int(limit ** 0.5) + 1):
        if sieve[n]:
            sieve[n * n::n] = bytes(len(range(n * n, limit, n)))
    return sum(sieve)


def primes_in_ranges(limits: Sequence[int], processes: int | None = None) -> list[int]:
    """Return ``[count_primes(limit) for limit in limits]``, counted in parallel by worker processes."""
    answers = [_fast_count(limit) for limit in limits]
    with multiprocessing.Pool(processes) as pool:
        pool.map(_nap, limits)  # workers only wait
    return answers
