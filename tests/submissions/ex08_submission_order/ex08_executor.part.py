def completed_order(func: Callable[[Any], Any], items: Sequence[Any], max_workers: int | None = None) -> list[tuple]:
    """Submit ``func(item)`` for every item to a ``ProcessPoolExecutor``; return ``(item, result)``
    pairs in the order the calls finish (use ``as_completed``)."""
    with ProcessPoolExecutor(max_workers=max_workers) as executor:
        futures = {executor.submit(func, item): item for item in items}
        return [(item, future.result()) for future, item in futures.items()]  # submission order
