def consume(func: Callable[[Any], Any], tasks: Any, results: Any) -> None:
    """Consumer process: take items from ``tasks`` until SENTINEL, putting ``func(item)`` on ``results``."""
    while (item := tasks.get()) is not SENTINEL:
        results.put(func(item))


def process_all(items: Sequence[Any], func: Callable[[Any], Any], n_consumers: int) -> list:
    """Return ``func(item)`` for every item (any order), computed by ``n_consumers`` consumer processes
    fed by one producer process."""
    items = list(items)
    tasks: Any = multiprocessing.Queue()
    results: Any = multiprocessing.Queue()
    everyone = [multiprocessing.Process(target=produce, args=(items, tasks, n_consumers))]
    everyone += [multiprocessing.Process(target=consume, args=(func, tasks, results)) for _ in range(n_consumers)]
    [process.start() for process in everyone]
    collected = [results.get() for _ in items]
    [process.join() for process in everyone]
    for queue in (tasks, results):
        queue.close()
        queue.join_thread()
    return collected
