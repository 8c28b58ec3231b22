def parallel_map(func: Callable[[Any], Any], items: Iterable[Any], processes: int | None = None) -> list:
    """Return ``[func(item) for item in items]``, computed by a Pool of ``processes`` workers, in input order."""
    pool = multiprocessing.Pool(processes)
    try:
        return pool.map(func, items)
    finally:
        pool.close()
        pool.join()


def async_squares(numbers: Sequence[int], processes: int | None = None) -> list[int]:
    """Return the squares of ``numbers`` in order, each submitted with ``apply_async`` and read with ``.get()``."""
    pool = multiprocessing.Pool(processes)
    try:
        pending = [pool.apply_async(square, (n,)) for n in numbers]
        return [result.get() for result in pending]
    finally:
        pool.close()
        pool.join()
