# after: parallel_map
def _count_chunk(chunk: Sequence[int]) -> list[int]:
    """Count the primes below each limit of one chunk (runs in a worker process)."""
    return [count_primes(limit) for limit in chunk]


def primes_in_ranges(limits: Sequence[int], processes: int | None = None) -> list[int]:
    """Return ``[count_primes(limit) for limit in limits]``, counted in parallel by worker processes."""
    workers = processes or multiprocessing.cpu_count()
    size = max(1, len(limits) // workers)
    chunks = [limits[i * size:(i + 1) * size] for i in range(workers)]
    counted = parallel_map(_count_chunk, chunks, workers)
    return [count for chunk in counted for count in chunk]
