def increment(counter: Any, n: int) -> None:
    """Add 1 to ``counter.value``, ``n`` times, without losing updates when other processes do the same."""
    lock = counter.get_lock()
    for _ in range(n):
        lock.acquire()
        try:
            counter.value = counter.value + 1
        finally:
            lock.release()
