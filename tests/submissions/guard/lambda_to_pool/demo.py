import multiprocessing


def main():
    with multiprocessing.Pool(2) as pool:
        print(pool.map(lambda n: n * n, range(4)))


if __name__ == "__main__":
    main()
