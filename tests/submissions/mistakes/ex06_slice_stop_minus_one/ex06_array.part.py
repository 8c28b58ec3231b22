def square_slice(shared: Any, start: int, stop: int) -> None:
    """Square ``shared[start:stop]`` in place (no lock: no other process touches these elements)."""
    for index in range(start, stop - 1):
        shared[index] = shared[index] * shared[index]
