def word_counts(documents: Sequence[str], n_processes: int) -> dict[str, int]:
    """Count the words of all ``documents`` with ``n_processes`` worker processes that share one
    ``Manager().dict()``; return the counts as a plain dict."""
    manager = multiprocessing.Manager()
    try:
        counts = manager.dict()
        lock = manager.Lock()
        pool = multiprocessing.Pool(n_processes)
        try:
            pending = [pool.apply_async(count_words, (list(documents[i::n_processes]), counts, lock))
                       for i in range(n_processes)]
            for result in pending:
                result.get()  # wait, and re-raise a worker's error
        finally:
            pool.close()
            pool.join()
        return counts.copy()
    finally:
        manager.shutdown()
