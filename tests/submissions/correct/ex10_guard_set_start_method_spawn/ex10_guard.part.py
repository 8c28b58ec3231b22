if __name__ == "__main__":
    multiprocessing.set_start_method("spawn")  # behave as on macOS and Windows everywhere
    main()
