"""Hostile: Pool workers that die of SIGXCPU (RLIMIT_CPU of 1 s); the Pool then waits forever."""
import multiprocessing
import resource
import time


def limit_cpu():
    resource.setrlimit(resource.RLIMIT_CPU, (1, 1))


def burn(_):
    end = time.monotonic() + 120
    while time.monotonic() < end:
        pass
    return 0


def run_in_processes(func, args_list):
    with multiprocessing.Pool(2, initializer=limit_cpu) as pool:
        return pool.map(burn, range(len(args_list)))
