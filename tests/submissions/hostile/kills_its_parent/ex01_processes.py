"""Hostile: kills the process that supervises it, then keeps a worker spinning (ends by itself after 2 minutes)."""
import multiprocessing
import os
import signal
import time


def spin():
    end = time.monotonic() + 120
    while time.monotonic() < end:
        time.sleep(0.05)


def run_in_processes(func, args_list):
    worker = multiprocessing.Process(target=spin)
    worker.start()
    os.kill(os.getppid(), signal.SIGKILL)
    worker.join()
    return [0 for _ in args_list]
