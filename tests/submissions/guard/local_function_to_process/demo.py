import multiprocessing


def main():
    def work():
        print("hello from the child")

    process = multiprocessing.Process(target=work)
    process.start()
    process.join()


if __name__ == "__main__":
    main()
