def safe_results(func: Callable[[Any], Any], items: Sequence[Any]) -> list:
    """Return, in input order, ``func(item)`` for every item, or the exception instance the call
    raised in its worker; never raise."""
    with ProcessPoolExecutor() as executor:
        results = []
        try:
            for result in executor.map(func, items):
                results.append(result)
        except Exception as error:
            results.append(error)
        return results
