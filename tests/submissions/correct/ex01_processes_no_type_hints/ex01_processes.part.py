import multiprocessing


def run_in_processes(func, args_list):
    """Run ``func(*args)`` in a process of its own for every tuple in ``args_list``.

    Start all the processes first, then join them all, so they run at the same
    time. Return their exit codes, in the order of ``args_list``.
    """
    children = []
    for call_args in args_list:
        children.append(multiprocessing.Process(target=func, args=tuple(call_args)))
    for child in children:
        child.start()
    for child in children:
        child.join()
    return list(map(lambda child: child.exitcode, children))


class SquareWorker(multiprocessing.Process):
    """A process that puts ``(n, n * n)`` on the ``results`` queue for each of ``numbers``, in order."""

    def __init__(self, numbers, results):
        super(SquareWorker, self).__init__()
        self.numbers = list(numbers)
        self.results = results

    def run(self):
        i = 0
        while i < len(self.numbers):
            n = self.numbers[i]
            self.results.put((n, n * n))
            i += 1


def _shout(word):
    print(f"{word.upper()} from process {multiprocessing.current_process().name}")


def main():
    codes = run_in_processes(_shout, [("hello",), ("world",)])
    print("exit codes:", codes)
    results = multiprocessing.Queue()
    worker = SquareWorker([1, 2, 3], results)
    worker.start()
    squares = [results.get() for _ in range(3)]
    worker.join()
    print("squares:", squares)
