def run_in_processes(func: Callable[..., Any], args_list: Sequence[tuple]) -> list[int]:
    """Run ``func(*args)`` in a process of its own for every tuple in ``args_list``.

    Start all the processes first, then join them all, so they run at the same
    time. Return their exit codes, in the order of ``args_list``.
    """
    processes = []
    for args in args_list:
        p = multiprocessing.Process(target=func, args=tuple(args))
        p.start()
        processes.append(p)
    for process in processes:
        p.join()
    return [process.exitcode for process in processes]
