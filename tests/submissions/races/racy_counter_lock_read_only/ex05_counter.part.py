def increment(counter: Any, n: int) -> None:
    """Add 1 to ``counter.value``, ``n`` times, without losing updates when other processes do the same."""
    for _ in range(n):
        with counter.get_lock():
            current = counter.value
        counter.value = current + 1
