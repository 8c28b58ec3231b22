import multiprocessing


def run_in_processes(func, args_list):
    """Returns before joining, so the exit codes are still None."""
    processes = [multiprocessing.Process(target=func, args=args) for args in args_list]
    for p in processes:
        p.start()
    codes = [p.exitcode for p in processes]
    for p in processes:
        p.join()
    return codes


class SquareWorker(multiprocessing.Process):
    def __init__(self, numbers, results):
        super().__init__()
        self.numbers = numbers
        self.results = results

    def run(self):
        for n in self.numbers:
            self.results.put((n, n + n))
