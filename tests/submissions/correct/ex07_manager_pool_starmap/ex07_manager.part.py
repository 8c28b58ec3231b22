def word_counts(documents: Sequence[str], n_processes: int) -> dict[str, int]:
    """Count the words of all ``documents`` with ``n_processes`` worker processes that share one
    ``Manager().dict()``; return the counts as a plain dict."""
    documents = list(documents)
    with multiprocessing.Manager() as manager:
        counts = manager.dict()
        lock = manager.Lock()
        shares = [documents[i::n_processes] for i in range(n_processes)]
        with multiprocessing.Pool(processes=n_processes) as pool:
            pool.starmap(count_words, [(share, counts, lock) for share in shares])
        return dict(counts)
