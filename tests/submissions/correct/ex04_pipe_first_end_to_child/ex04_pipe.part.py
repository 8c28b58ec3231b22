from __future__ import annotations

from multiprocessing import Pipe, Process
from typing import Any, Sequence


def square_via_pipe(numbers: Sequence[int]) -> list[int]:
    """Return the squares of ``numbers``, in order, computed by one child process running ``squarer``."""
    a, b = Pipe()
    p = Process(target=squarer, args=(a,))
    p.start()
    a.close()
    result = []
    for x in numbers:
        b.send(x)
        result.append(b.recv())
    b.send(None)
    p.join()
    b.close()
    return result
