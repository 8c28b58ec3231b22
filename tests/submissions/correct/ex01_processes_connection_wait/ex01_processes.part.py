from __future__ import annotations

import multiprocessing
import multiprocessing.connection
from typing import Any, Callable, Sequence


def run_in_processes(func: Callable[..., Any], args_list: Sequence[tuple]) -> list[int]:
    """Run ``func(*args)`` in a process of its own for every tuple in ``args_list``.

    Start all the processes first, then join them all, so they run at the same
    time. Return their exit codes, in the order of ``args_list``.
    """
    processes = [multiprocessing.Process(target=func, args=tuple(args)) for args in args_list]
    for process in processes:
        process.start()
    pending = {process.sentinel: process for process in processes}
    while pending:
        for ready in multiprocessing.connection.wait(list(pending)):
            pending.pop(ready).join()
    return [process.exitcode for process in processes]


class SquareWorker(multiprocessing.Process):
    """A process that puts ``(n, n * n)`` on the ``results`` queue for each of ``numbers``, in order."""

    def __init__(self, numbers: Sequence[int], results: Any) -> None:
        multiprocessing.Process.__init__(self)
        self.numbers = list(numbers)
        self.results = results

    def run(self) -> None:
        for n in self.numbers:
            self.results.put((n, n * n))
