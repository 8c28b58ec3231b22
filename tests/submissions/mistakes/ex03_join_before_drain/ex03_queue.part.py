def process_all(items: Sequence[Any], func: Callable[[Any], Any], n_consumers: int) -> list:
    """Return ``func(item)`` for every item (any order), computed by ``n_consumers`` consumer processes
    fed by one producer process."""
    tasks: Any = multiprocessing.Queue()
    results: Any = multiprocessing.Queue()
    producer = multiprocessing.Process(target=produce, args=(list(items), tasks, n_consumers))
    consumers = [multiprocessing.Process(target=consume, args=(func, tasks, results))
                 for _ in range(n_consumers)]
    producer.start()
    for consumer in consumers:
        consumer.start()
    producer.join()
    for consumer in consumers:
        consumer.join()
    collected = [results.get() for _ in range(len(items))]
    return collected
