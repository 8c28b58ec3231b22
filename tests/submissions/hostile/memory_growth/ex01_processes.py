"""Hostile: three processes each grow to 1.5 GB, 128 MB at a time (4.5 GB together, at most)."""
import multiprocessing
import time


def grow():
    chunks = [bytearray(128 * 1024 ** 2) for _ in range(12)]
    time.sleep(30)
    return len(chunks)


def run_in_processes(func, args_list):
    workers = [multiprocessing.Process(target=grow) for _ in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return [w.exitcode for w in workers]
