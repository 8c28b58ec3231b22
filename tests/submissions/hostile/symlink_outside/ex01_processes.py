"""Hostile: the untouched stub; the submission also holds a symlink to a file outside it (see battery.py)."""


def run_in_processes(func, args_list):
    raise NotImplementedError
