def parallel_counts(limits: Sequence[int], processes: int | None = None) -> list[int]:
    """Return ``[count_primes(limit) for limit in limits]``, computed by a Pool."""
    with multiprocessing.Pool(processes) as pool:
        pending = [pool.apply_async(count_primes, (limit,)) for limit in limits]
        return [result.get() for result in pending]


def report(limits: Sequence[int], counts: Sequence[int]) -> None:
    for limit, count in zip(limits, counts):
        print(f"primes below {limit}: {count}")


def main() -> None:
    report(LIMITS, parallel_counts(LIMITS))
