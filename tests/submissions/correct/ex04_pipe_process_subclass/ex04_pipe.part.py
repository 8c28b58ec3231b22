# after: squarer
class _SquarerProcess(multiprocessing.Process):
    """The child process: runs squarer on its end of the Pipe."""

    def __init__(self, conn: Any) -> None:
        super().__init__()
        self.conn = conn

    def run(self) -> None:
        squarer(self.conn)


def square_via_pipe(numbers: Sequence[int]) -> list[int]:
    """Return the squares of ``numbers``, in order, computed by one child process running ``squarer``."""
    parent_end, child_end = multiprocessing.Pipe()
    child = _SquarerProcess(child_end)
    child.start()
    child_end.close()
    squares = []
    for n in numbers:
        parent_end.send(n)
        squares.append(parent_end.recv())
    parent_end.send(None)
    child.join()
    parent_end.close()
    return squares
