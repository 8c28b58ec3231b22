def run_in_processes(func: Callable[..., Any], args_list: Sequence[tuple]) -> list[int]:
    """Run ``func(*args)`` in a process of its own for every tuple in ``args_list``.

    Start all the processes first, then join them all, so they run at the same
    time. Return their exit codes, in the order of ``args_list``.
    """
    started: list[multiprocessing.Process] = []
    try:
        for args in args_list:
            process = multiprocessing.Process(target=func, args=tuple(args))
            process.start()
            started.append(process)
    finally:
        for process in started:
            process.join()
    return [process.exitcode for process in started]


class SquareWorker(multiprocessing.Process):
    """A process that puts ``(n, n * n)`` on the ``results`` queue for each of ``numbers``, in order."""

    def __init__(self, numbers: Sequence[int], results: Any) -> None:
        super().__init__(daemon=True)
        self.numbers = list(numbers)
        self.results = results

    def run(self) -> None:
        for n in self.numbers:
            self.results.put((n, n * n))
