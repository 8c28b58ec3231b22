import multiprocessing


def run_in_processes(func, args_list):
    """Joins each process right after starting it: they never run at the same time."""
    codes = []
    for args in args_list:
        process = multiprocessing.Process(target=func, args=args)
        process.start()
        process.join()
        codes.append(process.exitcode)
    return codes


class SquareWorker(multiprocessing.Process):
    def __init__(self, numbers, results):
        super().__init__()
        self.numbers = numbers
        self.results = results

    def run(self):
        for n in self.numbers:
            self.results.put((n, n * n))
