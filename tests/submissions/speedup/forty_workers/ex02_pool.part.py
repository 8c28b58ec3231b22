"""Exercise 2 (wrong: 40 workers when `processes` were asked for).

Learning goals:
- use ``multiprocessing.Pool`` as a context manager, so its workers are cleaned up,
- ``map`` keeps results in input order,
- hand CPU-bound work (``count_primes``) to worker processes, not threads,
- ``apply_async`` returns an ``AsyncResult`` at once; ``.get()`` waits for its value.
"""


def primes_in_ranges(limits: Sequence[int], processes: int | None = None) -> list[int]:
    """Return ``[count_primes(limit) for limit in limits]``, counted in parallel by worker processes."""
    with multiprocessing.Pool(40) as pool:
        return pool.map(count_primes, limits)
