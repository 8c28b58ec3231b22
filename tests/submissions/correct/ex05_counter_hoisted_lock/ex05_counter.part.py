def increment(counter: Any, n: int) -> None:
    """Add 1 to ``counter.value``, ``n`` times, without losing updates when other processes do the same."""
    lock = counter.get_lock()
    for _ in range(n):
        with lock:
            counter.value += 1
