"""Exercise 4: talking to a child process over a Pipe.

Learning goals:
- ``multiprocessing.Pipe()`` gives two connected ends; each process uses one,
- ``send``/``recv`` carry any picklable value, in order,
- a ``None`` tells the child to stop; close the ends you no longer need.
"""
from __future__ import annotations

import multiprocessing
from typing import Any, Sequence


def squarer(conn: Any) -> None:
    """Child process: receive numbers on ``conn`` and send back their squares; stop on None."""
    # BEGIN SOLUTION: loop: n = conn.recv(); stop on None, otherwise conn.send(n * n); close conn at the end
    while True:
        n = conn.recv()
        if n is None:
            break
        conn.send(n * n)
    conn.close()
    # END SOLUTION


def square_via_pipe(numbers: Sequence[int]) -> list[int]:
    """Return the squares of ``numbers``, in order, computed by one child process running ``squarer``."""
    # BEGIN SOLUTION: make a Pipe, start a Process running squarer with the child's end, send each number and receive its square, send None, join, close your ends
    parent_end, child_end = multiprocessing.Pipe()
    child = multiprocessing.Process(target=squarer, args=(child_end,))
    child.start()
    child_end.close()
    for n in numbers:
        parent_end.send(n)
    squares = [parent_end.recv() for _ in numbers]
    parent_end.send(None)
    child.join()
    parent_end.close()
    return squares
    # END SOLUTION


def main() -> None:
    print(square_via_pipe([1, 2, 3, 4]))


if __name__ == "__main__":
    main()
