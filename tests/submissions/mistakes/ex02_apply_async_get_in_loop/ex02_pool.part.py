def async_squares(numbers: Sequence[int], processes: int | None = None) -> list[int]:
    """Return the squares of ``numbers`` in order, each submitted with ``apply_async`` and read with ``.get()``."""
    with multiprocessing.Pool(processes) as pool:
        squares = []
        for n in numbers:
            squares.append(pool.apply_async(square, (n,)).get())
        return squares
