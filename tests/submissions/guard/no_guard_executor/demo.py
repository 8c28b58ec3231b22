from concurrent.futures import ProcessPoolExecutor


def square(n):
    return n * n


with ProcessPoolExecutor(2) as executor:
    print(list(executor.map(square, range(4))))
