import multiprocessing


def increment(counter, n):
    """Add 1 to ``counter.value``, ``n`` times, without losing updates when other processes do the same."""
    done = 0
    while done < n:
        with counter.get_lock():
            counter.value += 1
        done += 1


def parallel_count(n_processes, n_increments):
    """Run ``increment`` in ``n_processes`` processes on one shared ``Value("i", 0)``; return the final value."""
    counter = multiprocessing.Value("i", 0, lock=multiprocessing.RLock())
    children = []
    for _ in range(n_processes):
        child = multiprocessing.Process(target=increment, args=(counter, n_increments))
        child.start()
        children.append(child)
    for child in children:
        child.join()
    return counter.value


def main():
    print("4 processes x 10000 increments =", parallel_count(4, 10_000))
