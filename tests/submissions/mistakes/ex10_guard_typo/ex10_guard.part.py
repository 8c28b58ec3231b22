# without: guard
# after: main
if __name__ == "main":
    main()
