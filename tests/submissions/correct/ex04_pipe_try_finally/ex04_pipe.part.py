def squarer(conn: Any) -> None:
    """Child process: receive numbers on ``conn`` and send back their squares; stop on None."""
    try:
        while True:
            n = conn.recv()
            if n is None:
                return
            conn.send(n * n)
    finally:
        conn.close()


def square_via_pipe(numbers: Sequence[int]) -> list[int]:
    """Return the squares of ``numbers``, in order, computed by one child process running ``squarer``."""
    parent_end, child_end = multiprocessing.Pipe()
    child = multiprocessing.Process(target=squarer, args=(child_end,))
    child.start()
    child_end.close()
    squares: list[int] = []
    try:
        for n in numbers:
            parent_end.send(n)
            squares.append(parent_end.recv())
    finally:
        parent_end.send(None)
        child.join()
        parent_end.close()
    return squares
