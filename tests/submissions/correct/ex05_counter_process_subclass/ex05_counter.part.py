# after: increment
class Incrementer(multiprocessing.Process):
    """A process that runs increment(counter, n)."""

    def __init__(self, counter: Any, n: int) -> None:
        super().__init__()
        self.counter = counter
        self.n = n

    def run(self) -> None:
        increment(self.counter, self.n)


def parallel_count(n_processes: int, n_increments: int) -> int:
    """Run ``increment`` in ``n_processes`` processes on one shared ``Value("i", 0)``; return the final value."""
    counter = multiprocessing.Value("i", 0)
    workers = [Incrementer(counter, n_increments) for _ in range(n_processes)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return counter.value
