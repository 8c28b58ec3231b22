def process_all(items: Sequence[Any], func: Callable[[Any], Any], n_consumers: int) -> list:
    """Return ``func(item)`` for every item (any order), computed by ``n_consumers`` consumer processes
    fed by one producer process."""
    task_queue = multiprocessing.Queue()
    result_queue = multiprocessing.Queue()
    workers = [
        multiprocessing.Process(target=consume, kwargs={"func": func, "tasks": task_queue, "results": result_queue})
        for _ in range(n_consumers)
    ]
    for worker in workers:
        worker.start()
    feeder = multiprocessing.Process(
        target=produce, kwargs={"items": list(items), "tasks": task_queue, "n_consumers": n_consumers})
    feeder.start()
    answers = []
    while len(answers) < len(items):
        answers.append(result_queue.get())
    feeder.join()
    for worker in workers:
        worker.join()
    return answers
