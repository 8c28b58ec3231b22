"""Hostile: a class where a function is expected."""


class run_in_processes:
    def __init__(self, func, args_list):
        self.codes = []
