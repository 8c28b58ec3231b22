from __future__ import annotations

import multiprocessing
import multiprocessing.connection
from typing import Any, Sequence


def squarer(conn: Any) -> None:
    """Child process: receive numbers on ``conn`` and send back their squares; stop on None."""
    while conn.poll(None):
        n = conn.recv()
        if n is None:
            break
        conn.send(n * n)
    conn.close()


def square_via_pipe(numbers: Sequence[int]) -> list[int]:
    """Return the squares of ``numbers``, in order, computed by one child process running ``squarer``."""
    parent_end, child_end = multiprocessing.Pipe()
    child = multiprocessing.Process(target=squarer, args=(child_end,))
    child.start()
    child_end.close()
    squares = []
    for n in numbers:
        parent_end.send(n)
        multiprocessing.connection.wait([parent_end])
        squares.append(parent_end.recv())
    parent_end.send(None)
    child.join()
    parent_end.close()
    return squares
