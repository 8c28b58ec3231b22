def process_all(items: Sequence[Any], func: Callable[[Any], Any], n_consumers: int) -> list:
    """Return ``func(item)`` for every item (any order), computed by ``n_consumers`` consumer processes
    fed by one producer process."""
    tasks = multiprocessing.SimpleQueue()
    results = multiprocessing.SimpleQueue()
    producer = multiprocessing.Process(target=produce, args=(list(items), tasks, n_consumers))
    consumers = [multiprocessing.Process(target=consume, args=(func, tasks, results))
                 for _ in range(n_consumers)]
    for process in [producer, *consumers]:
        process.start()
    collected = [results.get() for _ in items]
    for process in [producer, *consumers]:
        process.join()
    tasks.close()
    results.close()
    return collected
