"""The guard is right; a function main() calls has a bug of its own (its own check grades it)."""
import multiprocessing


def square(n):
    return n * n


def squares(numbers):
    with multiprocessing.Pool(2) as pool:
        values = pool.map(square, numbers)
    return values[len(numbers)]  # off by one: IndexError


def main():
    print(squares([1, 2, 3]))


if __name__ == "__main__":
    main()
