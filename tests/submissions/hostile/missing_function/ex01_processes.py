"""Hostile: the function the exercise asks for is not there."""


def run_processes(func, args_list):
    return []
