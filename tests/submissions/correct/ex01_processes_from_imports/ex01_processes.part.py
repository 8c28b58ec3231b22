from __future__ import annotations

import multiprocessing
from multiprocessing import Process, Queue
from typing import Any, Callable, Sequence


def run_in_processes(func: Callable[..., Any], args_list: Sequence[tuple]) -> list[int]:
    """Run ``func(*args)`` in a process of its own for every tuple in ``args_list``.

    Start all the processes first, then join them all, so they run at the same
    time. Return their exit codes, in the order of ``args_list``.
    """
    jobs = [Process(target=func, args=args) for args in map(tuple, args_list)]
    for job in jobs:
        job.start()
    for job in jobs:
        job.join()
    return [job.exitcode for job in jobs]


class SquareWorker(Process):
    """A process that puts ``(n, n * n)`` on the ``results`` queue for each of ``numbers``, in order."""

    def __init__(self, numbers: Sequence[int], results: Any) -> None:
        super().__init__()
        self.numbers = list(numbers)
        self.results = results

    def run(self) -> None:
        for n in self.numbers:
            self.results.put((n, n ** 2))


def main() -> None:
    codes = run_in_processes(_shout, [("hello",), ("world",)])
    print("exit codes:", codes)
    results = Queue()
    worker = SquareWorker([1, 2, 3], results)
    worker.start()
    squares = [results.get() for _ in range(3)]
    worker.join()
    print("squares:", squares)
