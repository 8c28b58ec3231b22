def consume(func: Callable[[Any], Any], tasks: Any, results: Any) -> None:
    """Consumer process: take items from ``tasks`` until SENTINEL, putting ``func(item)`` on ``results``."""
    while True:
        item = tasks.get()
        if item == "STOP":
            break
        if item is not None:
            results.put(func(item))
