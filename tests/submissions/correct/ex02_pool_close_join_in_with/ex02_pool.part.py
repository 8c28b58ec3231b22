def parallel_map(func: Callable[[Any], Any], items: Iterable[Any], processes: int | None = None) -> list:
    """Return ``[func(item) for item in items]``, computed by a Pool of ``processes`` workers, in input order."""
    with multiprocessing.Pool(processes) as pool:
        results = pool.map(func, items)
        pool.close()
        pool.join()
    return results


def async_squares(numbers: Sequence[int], processes: int | None = None) -> list[int]:
    """Return the squares of ``numbers`` in order, each submitted with ``apply_async`` and read with ``.get()``."""
    with multiprocessing.Pool(processes) as pool:
        pending = [pool.apply_async(square, (n,)) for n in numbers]
        squares = [result.get() for result in pending]
        pool.close()
        pool.join()
    return squares
