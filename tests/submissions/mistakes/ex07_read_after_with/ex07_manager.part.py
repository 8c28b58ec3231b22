def word_counts(documents: Sequence[str], n_processes: int) -> dict[str, int]:
    """Count the words of all ``documents`` with ``n_processes`` worker processes that share one
    ``Manager().dict()``; return the counts as a plain dict."""
    with multiprocessing.Manager() as manager:
        counts = manager.dict()
        lock = manager.Lock()
        shares = [list(documents[i::n_processes]) for i in range(n_processes)]
        processes = [multiprocessing.Process(target=count_words, args=(share, counts, lock)) for share in shares]
        for process in processes:
            process.start()
        for process in processes:
            process.join()
    return dict(counts)
