def process_all(items: Sequence[Any], func: Callable[[Any], Any], n_consumers: int) -> list:
    """Return ``func(item)`` for every item (any order), computed by ``n_consumers`` consumer processes
    fed by one producer process."""
    tasks: Any = multiprocessing.Queue()
    results: Any = multiprocessing.Queue()
    consumers = [multiprocessing.Process(target=consume, args=(func, tasks, results))
                 for _ in range(n_consumers)]
    produce(list(items), tasks, n_consumers)
    for consumer in consumers:
        consumer.start()
    collected = [results.get() for _ in range(len(items))]
    for consumer in consumers:
        consumer.join()
    return collected
