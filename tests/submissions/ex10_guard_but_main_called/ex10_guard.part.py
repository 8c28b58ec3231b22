# after: main
main()  # runs on import too
