# after: imports
def _call(func: Callable[..., Any], args: tuple) -> None:
    """Process target: call ``func`` with the arguments of one tuple."""
    func(*args)


def run_in_processes(func: Callable[..., Any], args_list: Sequence[tuple]) -> list[int]:
    """Run ``func(*args)`` in a process of its own for every tuple in ``args_list``.

    Start all the processes first, then join them all, so they run at the same
    time. Return their exit codes, in the order of ``args_list``.
    """
    workers = []
    for args in args_list:
        worker = multiprocessing.Process(target=_call, kwargs={"func": func, "args": tuple(args)})
        worker.start()
        workers.append(worker)
    for worker in workers:
        worker.join()
    return [worker.exitcode for worker in workers]
