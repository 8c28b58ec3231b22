"""Hostile: leaves a SharedMemory block and a named semaphore in /dev/shm, untracked (track=False on 3.13+)."""
import multiprocessing
import os
from multiprocessing import resource_tracker, shared_memory

import _multiprocessing


def run_in_processes(func, args_list):
    try:
        block = shared_memory.SharedMemory(create=True, size=4096, track=False)  # Python 3.13+
    except TypeError:
        block = shared_memory.SharedMemory(create=True, size=4096)
        resource_tracker.unregister(block._name, "shared_memory")  # what track=False does
    block.close()
    _multiprocessing.SemLock(1, 1, 1, f"/mp-hostile-{os.getpid()}-{os.urandom(4).hex()}", False)  # once per call of it
    processes = [multiprocessing.Process(target=func, args=tuple(args)) for args in args_list]
    for process in processes:
        process.start()
    for process in processes:
        process.join()
    return [process.exitcode for process in processes]
