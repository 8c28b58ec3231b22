import multiprocessing


def work(n):
    print("working on", n)


process = multiprocessing.Process(target=work, args=(1,))
process.start()
process.join()
