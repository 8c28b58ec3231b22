"""Expected answers that more than one grader needs (trusted side only; never sent to a sandbox)."""
from __future__ import annotations


def count_primes_below(limit: int) -> int:
    """The number of primes below ``limit`` (sieve of Eratosthenes)."""
    if limit < 3:
        return 0
    sieve = bytearray([1]) * limit
    sieve[0] = sieve[1] = 0
    for n in range(2, int(limit ** 0.5) + 1):
        if sieve[n]:
            sieve[n * n::n] = bytes(len(range(n * n, limit, n)))
    return sum(sieve)
