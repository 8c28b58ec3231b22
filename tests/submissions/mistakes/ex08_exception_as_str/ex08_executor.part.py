def safe_results(func: Callable[[Any], Any], items: Sequence[Any]) -> list:
    """Return, in input order, ``func(item)`` for every item, or the exception instance the call
    raised in its worker; never raise."""
    with ProcessPoolExecutor() as executor:
        futures = [executor.submit(func, item) for item in items]
        results = []
        for future in futures:
            error = future.exception()
            results.append(str(error) if error is not None else future.result())
        return results
