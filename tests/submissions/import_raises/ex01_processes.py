import multiprocessing

SETTINGS = {"workers": 2}
WORKERS = SETTINGS["processes"]


def run_in_processes(func, args_list):
    return []
