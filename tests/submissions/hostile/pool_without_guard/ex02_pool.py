"""Hostile: a Pool at the top level with no __main__ guard (spawn children re-run it, forever)."""
import multiprocessing


def square(x):
    return x * x


with multiprocessing.Pool(2) as pool:
    print(pool.map(square, range(4)))


def parallel_map(func, items, processes):
    return [func(x) for x in items]
