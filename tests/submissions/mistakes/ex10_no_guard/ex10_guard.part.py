# without: guard
# after: main
main()
