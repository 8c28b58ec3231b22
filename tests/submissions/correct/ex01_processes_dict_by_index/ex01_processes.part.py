def run_in_processes(func: Callable[..., Any], args_list: Sequence[tuple]) -> list[int]:
    """Run ``func(*args)`` in a process of its own for every tuple in ``args_list``.

    Start all the processes first, then join them all, so they run at the same
    time. Return their exit codes, in the order of ``args_list``.
    """
    by_index = {index: multiprocessing.Process(target=func, args=tuple(args), name=f"run-{index}")
                for index, args in enumerate(args_list)}
    for proc in by_index.values():
        proc.start()
    for proc in by_index.values():
        proc.join()
    return [by_index[index].exitcode for index in range(len(args_list))]


class SquareWorker(multiprocessing.Process):
    """A process that puts ``(n, n * n)`` on the ``results`` queue for each of ``numbers``, in order."""

    def __init__(self, numbers: Sequence[int], results: Any) -> None:
        super().__init__()
        self._numbers = tuple(numbers)
        self._results = results

    def run(self) -> None:
        for number in self._numbers:
            self._results.put((number, number * number))
