# after: consume
class Producer(multiprocessing.Process):
    """The producer process: runs produce()."""

    def __init__(self, items: list, tasks: Any, n_consumers: int) -> None:
        super().__init__()
        self.items, self.tasks, self.n_consumers = items, tasks, n_consumers

    def run(self) -> None:
        produce(self.items, self.tasks, self.n_consumers)


class Consumer(multiprocessing.Process):
    """A consumer process: runs consume()."""

    def __init__(self, func: Callable[[Any], Any], tasks: Any, results: Any) -> None:
        super().__init__()
        self.func, self.tasks, self.results = func, tasks, results

    def run(self) -> None:
        consume(self.func, self.tasks, self.results)


def process_all(items: Sequence[Any], func: Callable[[Any], Any], n_consumers: int) -> list:
    """Return ``func(item)`` for every item (any order), computed by ``n_consumers`` consumer processes
    fed by one producer process."""
    tasks = multiprocessing.Queue()
    results = multiprocessing.Queue()
    producer = Producer(list(items), tasks, n_consumers)
    consumers = [Consumer(func, tasks, results) for _ in range(n_consumers)]
    producer.start()
    for consumer in consumers:
        consumer.start()
    collected = [results.get() for _ in range(len(items))]
    producer.join()
    for consumer in consumers:
        consumer.join()
    return collected
