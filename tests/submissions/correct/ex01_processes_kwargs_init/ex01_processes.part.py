def run_in_processes(func: Callable[..., Any], args_list: Sequence[tuple]) -> list[int]:
    """Run ``func(*args)`` in a process of its own for every tuple in ``args_list``.

    Start all the processes first, then join them all, so they run at the same
    time. Return their exit codes, in the order of ``args_list``.
    """
    processes = []
    for number, args in enumerate(args_list, start=1):
        processes.append(multiprocessing.Process(target=func, args=(*args,), name=f"job-{number}"))
    for process in processes:
        process.start()
    for process in processes:
        process.join()
    return [process.exitcode for _, process in zip(args_list, processes)]


class SquareWorker(multiprocessing.Process):
    """A process that puts ``(n, n * n)`` on the ``results`` queue for each of ``numbers``, in order."""

    def __init__(self, numbers: Sequence[int], results: Any) -> None:
        super().__init__(name=f"SquareWorker({len(numbers)} numbers)")
        self.numbers = list(numbers)
        self.results = results

    def run(self) -> None:
        pairs = [(n, n * n) for n in self.numbers]
        for pair in pairs:
            self.results.put(pair)
