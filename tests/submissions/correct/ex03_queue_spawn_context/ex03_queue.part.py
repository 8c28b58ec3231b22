def process_all(items: Sequence[Any], func: Callable[[Any], Any], n_consumers: int) -> list:
    """Return ``func(item)`` for every item (any order), computed by ``n_consumers`` consumer processes
    fed by one producer process."""
    ctx = multiprocessing.get_context("spawn")
    tasks = ctx.Queue()
    results = ctx.Queue()
    producer = ctx.Process(target=produce, args=(list(items), tasks, n_consumers))
    consumers = [ctx.Process(target=consume, args=(func, tasks, results)) for _ in range(n_consumers)]
    producer.start()
    for consumer in consumers:
        consumer.start()
    collected = [results.get() for _ in range(len(items))]
    producer.join()
    for consumer in consumers:
        consumer.join()
    return collected
