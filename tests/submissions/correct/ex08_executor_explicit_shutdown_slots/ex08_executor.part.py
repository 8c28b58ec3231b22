def completed_order(func: Callable[[Any], Any], items: Sequence[Any], max_workers: int | None = None) -> list[tuple]:
    """Submit ``func(item)`` for every item to a ``ProcessPoolExecutor``; return ``(item, result)``
    pairs in the order the calls finish (use ``as_completed``)."""
    executor = ProcessPoolExecutor(max_workers=max_workers)
    try:
        futures = {executor.submit(func, item): item for item in items}
        finished = []
        for future in as_completed(futures):
            finished.append((futures[future], future.result()))
        return finished
    finally:
        executor.shutdown(wait=True)


def safe_results(func: Callable[[Any], Any], items: Sequence[Any]) -> list:
    """Return, in input order, ``func(item)`` for every item, or the exception instance the call
    raised in its worker; never raise."""
    results: list = [None] * len(items)
    executor = ProcessPoolExecutor()
    try:
        index_of = {executor.submit(func, item): index for index, item in enumerate(items)}
        for future in as_completed(index_of):  # any order: each result goes to its own slot
            error = future.exception()
            results[index_of[future]] = error if error is not None else future.result()
    finally:
        executor.shutdown()
    return results
