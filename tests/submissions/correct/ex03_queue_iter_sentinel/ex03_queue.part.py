def consume(func: Callable[[Any], Any], tasks: Any, results: Any) -> None:
    """Consumer process: take items from ``tasks`` until SENTINEL, putting ``func(item)`` on ``results``."""
    for item in iter(tasks.get, SENTINEL):
        results.put(func(item))
