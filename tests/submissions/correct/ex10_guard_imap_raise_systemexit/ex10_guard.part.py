def parallel_counts(limits: Sequence[int], processes: int | None = None) -> list[int]:
    """Return ``[count_primes(limit) for limit in limits]``, computed by a Pool."""
    with multiprocessing.Pool(processes) as pool:
        return list(pool.imap(count_primes, limits))


def main() -> int:
    for limit, count in zip(LIMITS, parallel_counts(LIMITS)):
        print(f"primes below {limit}: {count}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
