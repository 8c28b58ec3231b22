def square_via_pipe(numbers: Sequence[int]) -> list[int]:
    """Return the squares of ``numbers``, in order, computed by one child process running ``squarer``."""
    squares = []
    for n in numbers:
        parent_end, child_end = multiprocessing.Pipe()
        child = multiprocessing.Process(target=squarer, args=(child_end,))
        child.start()
        parent_end.send(n)
        squares.append(parent_end.recv())
        parent_end.send(None)
        child.join()
        parent_end.close()
    return squares
