def run_in_processes(func: Callable[..., Any], args_list: Sequence[tuple]) -> list[int]:
    """Run ``func(*args)`` in a process of its own for every tuple in ``args_list``.

    Start all the processes first, then join them all, so they run at the same
    time. Return their exit codes, in the order of ``args_list``.
    """
    procs = [multiprocessing.Process(target=func, args=tuple(a)) for a in args_list]
    [p.start() for p in procs]
    codes: list[int] = []
    for p in procs:
        p.join()
        codes.append(p.exitcode)
    return codes


class SquareWorker(multiprocessing.Process):
    """A process that puts ``(n, n * n)`` on the ``results`` queue for each of ``numbers``, in order."""

    def __init__(self, numbers: Sequence[int], results: Any) -> None:
        super().__init__()
        self.numbers = list(numbers)
        self.results = results

    def run(self) -> None:
        for n in self.numbers:
            square = n * n
            self.results.put((n, square))
        self.results.close()
        self.results.join_thread()
