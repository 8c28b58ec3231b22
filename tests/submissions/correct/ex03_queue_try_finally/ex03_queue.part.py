def process_all(items: Sequence[Any], func: Callable[[Any], Any], n_consumers: int) -> list:
    """Return ``func(item)`` for every item (any order), computed by ``n_consumers`` consumer processes
    fed by one producer process."""
    tasks = multiprocessing.Queue()
    results = multiprocessing.Queue()
    started = []
    try:
        producer = multiprocessing.Process(target=produce, args=(list(items), tasks, n_consumers))
        producer.start()
        started.append(producer)
        for _ in range(n_consumers):
            consumer = multiprocessing.Process(target=consume, args=(func, tasks, results))
            consumer.start()
            started.append(consumer)
        return [results.get() for _ in range(len(items))]
    finally:
        for process in started:
            process.join()
