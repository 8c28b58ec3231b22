def run_in_processes(func: Callable[..., Any], args_list: Sequence[tuple]) -> list[int]:
    """Run ``func(*args)`` in a process of its own for every tuple in ``args_list``.

    Start all the processes first, then join them all, so they run at the same
    time. Return their exit codes, in the order of ``args_list``.
    """
    processes = [multiprocessing.Process(target=func, args=tuple(args)) for args in args_list]
    for process in processes:
        process.start()
    codes = [process.exitcode for process in processes]
    for process in processes:
        process.join()
    return codes
