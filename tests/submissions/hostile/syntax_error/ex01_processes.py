def run_in_processes(func, args_list)
    return []
