def completed_order(func: Callable[[Any], Any], items: Sequence[Any], max_workers: int | None = None) -> list[tuple]:
    """Submit ``func(item)`` for every item to a ``ProcessPoolExecutor``; return ``(item, result)``
    pairs in the order the calls finish (use ``as_completed``)."""
    with ProcessPoolExecutor(max_workers) as executor:
        futures = []
        item_of = {}
        for item in items:
            future = executor.submit(func, item)
            futures.append(future)
            item_of[future] = item
        return [(item_of[future], future.result()) for future in as_completed(futures)]


def safe_results(func: Callable[[Any], Any], items: Sequence[Any]) -> list:
    """Return, in input order, ``func(item)`` for every item, or the exception instance the call
    raised in its worker; never raise."""
    results: list = []
    with ProcessPoolExecutor() as executor:
        futures = [executor.submit(func, item) for item in items]
        for future in futures:
            try:
                results.append(future.result())
            except BaseException as error:  # the exception raised in the worker, re-raised here
                results.append(error)
    return results
