"""Hostile: a worker process that spins (ends by itself after 10 minutes); the caller joins it."""
import multiprocessing
import time


def spin():
    end = time.monotonic() + 600
    while time.monotonic() < end:
        pass


def run_in_processes(func, args_list):
    worker = multiprocessing.Process(target=spin)
    worker.start()
    worker.join()
    return [0 for _ in args_list]
