# after: SENTINEL
_CTX = multiprocessing.get_context("spawn")
"""The start method this module's processes use, whatever the program's default."""


def process_all(items: Sequence[Any], func: Callable[[Any], Any], n_consumers: int) -> list:
    """Return ``func(item)`` for every item (any order), computed by ``n_consumers`` consumer processes
    fed by one producer process."""
    tasks = _CTX.Queue()
    results = _CTX.Queue()
    producer = _CTX.Process(target=produce, args=(list(items), tasks, n_consumers))
    consumers = [_CTX.Process(target=consume, args=(func, tasks, results)) for _ in range(n_consumers)]
    producer.start()
    for consumer in consumers:
        consumer.start()
    collected = [results.get() for _ in range(len(items))]
    producer.join()
    for consumer in consumers:
        consumer.join()
    return collected
