def parallel_map(func: Callable[[Any], Any], items: Iterable[Any], processes: int | None = None) -> list:
    """Return ``[func(item) for item in items]``, computed by a Pool of ``processes`` workers, in input order."""
    with multiprocessing.Pool(processes) as pool:
        return list(pool.imap(func, items))


def async_squares(numbers: Sequence[int], processes: int | None = None) -> list[int]:
    """Return the squares of ``numbers`` in order, each submitted with ``apply_async`` and read with ``.get()``."""
    with multiprocessing.Pool(processes=processes) as pool:
        handles = [pool.apply_async(square, args=(n,)) for n in numbers]
        return [handle.get() for handle in handles]
