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
    while True:
        n = conn.recv()
        if n is None:
            break
        conn.send(n * n)
    conn.close()


def square_via_pipe(numbers: Sequence[int]) -> list[int]:
    """Return the squares of ``numbers``, in order, computed by one child process running ``squarer``."""
    parent_conn, child_conn = multiprocessing.Pipe(duplex=True)
    worker = multiprocessing.Process(target=squarer, kwargs={"conn": child_conn}, daemon=True)
    worker.start()
    child_conn.close()
    out = []
    for value in numbers:
        parent_conn.send(value)
        out.append(parent_conn.recv())
    parent_conn.send(None)
    worker.join()
    parent_conn.close()
    return out


def main() -> None:
    print(square_via_pipe([1, 2, 3, 4]))


if __name__ == "__main__":
    main()
