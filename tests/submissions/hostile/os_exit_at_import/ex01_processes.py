"""Hostile: ends the interpreter with exit code 0 while being imported."""
import os

os._exit(0)


def run_in_processes(func, args_list):
    return []
