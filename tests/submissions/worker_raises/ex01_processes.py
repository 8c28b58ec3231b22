import multiprocessing


def run_in_processes(func, args_list):
    processes = [multiprocessing.Process(target=func, args=args) for args in args_list]
    for p in processes:
        p.start()
    for p in processes:
        p.join()
    return [p.exitcode for p in processes]


class SquareWorker(multiprocessing.Process):
    def __init__(self, numbers, results):
        super().__init__()
        self.numbers = numbers
        self.results = results

    def run(self):
        for n in self.numbers:
            self.results.put((n, n * n / (n - n)))
