"""The Python documentation's pattern: choose the start method once, under the guard."""
import multiprocessing


def square(n):
    return n * n


def main():
    with multiprocessing.Pool(2) as pool:
        print(pool.map(square, range(4)))


if __name__ == "__main__":
    multiprocessing.set_start_method("spawn")
    main()
