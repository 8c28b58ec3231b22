# after: square
def _indexed_call(job: tuple[int, Callable[[Any], Any], Any]) -> tuple[int, Any]:
    """Worker side: (index, func, item) -> (index, func(item))."""
    index, func, item = job
    return index, func(item)


def parallel_map(func: Callable[[Any], Any], items: Iterable[Any], processes: int | None = None) -> list:
    """Return ``[func(item) for item in items]``, computed by a Pool of ``processes`` workers, in input order."""
    jobs = [(index, func, item) for index, item in enumerate(items)]
    with multiprocessing.Pool(processes) as pool:
        done = sorted(pool.imap_unordered(_indexed_call, jobs), key=lambda pair: pair[0])
    return [value for _, value in done]


def async_squares(numbers: Sequence[int], processes: int | None = None) -> list[int]:
    """Return the squares of ``numbers`` in order, each submitted with ``apply_async`` and read with ``.get()``."""
    with multiprocessing.Pool(processes) as pool:
        submitted = [pool.apply_async(square, (n,)) for n in numbers]
        for result in submitted:
            result.wait()
        return [result.get() for result in submitted]
