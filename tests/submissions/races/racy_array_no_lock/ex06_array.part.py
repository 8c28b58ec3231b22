def bump_all(shared: Any, times: int) -> None:
    """Add 1.0 to every element of ``shared``, ``times`` times; each pass over the array is atomic
    (hold ``shared.get_lock()`` for the whole pass)."""
    for _ in range(times):
        for index in range(len(shared)):
            shared[index] += 1.0  # no lock
