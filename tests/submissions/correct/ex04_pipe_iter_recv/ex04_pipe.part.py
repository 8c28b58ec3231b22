def squarer(conn: Any) -> None:
    """Child process: receive numbers on ``conn`` and send back their squares; stop on None."""
    for n in iter(conn.recv, None):
        conn.send(n * n)
    conn.close()


def square_via_pipe(numbers: Sequence[int]) -> list[int]:
    """Return the squares of ``numbers``, in order, computed by one child process running ``squarer``."""
    mine, theirs = multiprocessing.Pipe()
    child = multiprocessing.Process(target=squarer, args=(theirs,))
    child.start()
    theirs.close()

    def ask(n: int) -> int:
        mine.send(n)
        return mine.recv()

    squares = [ask(n) for n in numbers]
    mine.send(None)
    child.join()
    mine.close()
    return squares
