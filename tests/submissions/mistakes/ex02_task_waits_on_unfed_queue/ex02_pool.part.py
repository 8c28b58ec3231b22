# after: primes_in_ranges
def _square_next(queue: Any) -> int:
    return square(queue.get())


def async_squares(numbers: Sequence[int], processes: int | None = None) -> list[int]:
    """Return the squares of ``numbers`` in order, each submitted with ``apply_async`` and read with ``.get()``."""
    with multiprocessing.Manager() as manager:
        queue = manager.Queue()
        with multiprocessing.Pool(processes) as pool:
            pending = [pool.apply_async(_square_next, (queue,)) for _ in numbers]
            return [result.get() for result in pending]
