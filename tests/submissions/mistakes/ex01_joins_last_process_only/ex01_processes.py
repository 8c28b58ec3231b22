"""Exercise 1: start processes, wait for them, and read how they ended.

Learning goals:
- create a ``multiprocessing.Process`` for a function and its arguments,
- start every process before joining any, so they run at the same time,
- read ``exitcode`` after ``join()``,
- subclass ``Process`` and override ``run()``, sending results home on a ``Queue``.
"""
from __future__ import annotations

import multiprocessing
from typing import Any, Callable, Sequence


def run_in_processes(func: Callable[..., Any], args_list: Sequence[tuple]) -> list[int]:
    """Run ``func(*args)`` in a process of its own for every tuple in ``args_list``.

    Start all the processes first, then join them all, so they run at the same
    time. Return their exit codes, in the order of ``args_list``.
    """
    processes = []
    for args in args_list:
        p = multiprocessing.Process(target=func, args=tuple(args))
        p.start()
        processes.append(p)
    for process in processes:
        p.join()
    return [process.exitcode for process in processes]


class SquareWorker(multiprocessing.Process):
    """A process that puts ``(n, n * n)`` on the ``results`` queue for each of ``numbers``, in order."""

    def __init__(self, numbers: Sequence[int], results: Any) -> None:
        super().__init__()
        self.numbers = list(numbers)
        self.results = results

    def run(self) -> None:
        for n in self.numbers:
            self.results.put((n, n * n))


def _shout(word: str) -> None:
    print(f"{word.upper()} from process {multiprocessing.current_process().name}")


def main() -> None:
    codes = run_in_processes(_shout, [("hello",), ("world",)])
    print("exit codes:", codes)
    results = multiprocessing.Queue()
    worker = SquareWorker([1, 2, 3], results)
    worker.start()
    squares = [results.get() for _ in range(3)]
    worker.join()
    print("squares:", squares)


if __name__ == "__main__":
    main()
