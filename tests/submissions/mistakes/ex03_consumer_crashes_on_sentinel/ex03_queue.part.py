def consume(func: Callable[[Any], Any], tasks: Any, results: Any) -> None:
    """Consumer process: take items from ``tasks`` until SENTINEL, putting ``func(item)`` on ``results``."""
    while True:
        item = tasks.get()
        results.put(func(item))
        if item is SENTINEL:
            break
