class SquareWorker(multiprocessing.Process):
    """A process that puts ``(n, n * n)`` on the ``results`` queue for each of ``numbers``, in order."""

    def __init__(self, numbers: Sequence[int], results: Any) -> None:
        super().__init__()
        self.numbers = list(numbers)
        self.results = results

    def run(self) -> None:
        for n in self.numbers:
            self.results.put(n * n)
