def increment(counter: Any, n: int) -> None:
    """Add 1 to ``counter.value``, ``n`` times, without losing updates when other processes do the same."""
    local = n
    with counter.get_lock():
        counter.value += local
