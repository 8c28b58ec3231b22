"""Hostile: prints 100 MB, then does the exercise right (the output must cost nothing but disk, capped)."""
import multiprocessing
import sys


FLOODED = []


def run_in_processes(func, args_list):
    line = "x" * 1023 + "\n"
    for _ in range(0 if FLOODED else 100 * 1024):  # once per process: a check may call it for several cases
        sys.stdout.write(line)
    FLOODED.append(True)
    processes = [multiprocessing.Process(target=func, args=tuple(args)) for args in args_list]
    for process in processes:
        process.start()
    for process in processes:
        process.join()
    return [process.exitcode for process in processes]
