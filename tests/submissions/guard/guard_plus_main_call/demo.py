import multiprocessing


def square(n):
    return n * n


def main():
    with multiprocessing.Pool(2) as pool:
        print(pool.map(square, range(4)))


main()

if __name__ == "__main__":
    main()
