def produce(items: Sequence[Any], tasks: Any, n_consumers: int) -> None:
    """Producer process: put every item on ``tasks``, then one SENTINEL per consumer."""
    for item in items:
        tasks.put(item)
    tasks.put(SENTINEL)
