# Café au lait: a Latin-1 comment
import multiprocessing

NAME = "Señor"


def run_in_processes(func, args_list):
    return [0 for _ in args_list]
