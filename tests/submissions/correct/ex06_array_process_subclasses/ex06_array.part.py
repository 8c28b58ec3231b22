def bump_all(shared: Any, times: int) -> None:
    """Add 1.0 to every element of ``shared``, ``times`` times; each pass over the array is atomic
    (hold ``shared.get_lock()`` for the whole pass)."""
    for _ in range(times):
        with shared.get_lock():
            for index, value in enumerate(shared.get_obj()):
                shared[index] = value + 1.0


class Bumper(multiprocessing.Process):
    """A process that runs bump_all on the shared array."""

    def __init__(self, shared: Any, times: int) -> None:
        super().__init__()
        self.shared = shared
        self.times = times

    def run(self) -> None:
        bump_all(self.shared, self.times)


class Squarer(multiprocessing.Process):
    """A process that squares its own slice of the shared array."""

    def __init__(self, shared: Any, start: int, stop: int) -> None:
        super().__init__()
        self.shared = shared
        self.first = start
        self.stop_at = stop

    def run(self) -> None:
        square_slice(self.shared, self.first, self.stop_at)


def parallel_bump(initial: Sequence[float], n_processes: int, times: int) -> list[float]:
    """Run ``bump_all(shared, times)`` in ``n_processes`` processes on one ``Array("d", initial)``;
    return the final values."""
    shared = multiprocessing.Array("d", list(initial))
    workers = [Bumper(shared, times) for _ in range(n_processes)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return list(shared)


def square_slice(shared: Any, start: int, stop: int) -> None:
    """Square ``shared[start:stop]`` in place (no lock: no other process touches these elements)."""
    for index in range(start, stop):
        shared[index] = shared[index] ** 2


def parallel_square(values: Sequence[float], n_processes: int) -> list[float]:
    """Square every value in place in a shared Array, each of ``n_processes`` processes squaring its
    own disjoint slice; return the results."""
    shared = multiprocessing.Array("d", list(values), lock=False)
    size = len(shared)
    workers = [Squarer(shared, i * size // n_processes, (i + 1) * size // n_processes)
               for i in range(n_processes)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return list(shared)
