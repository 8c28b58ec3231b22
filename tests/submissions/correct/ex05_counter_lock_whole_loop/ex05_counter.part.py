def increment(counter: Any, n: int) -> None:
    """Add 1 to ``counter.value``, ``n`` times, without losing updates when other processes do the same."""
    with counter.get_lock():
        for _ in range(n):
            counter.value += 1
