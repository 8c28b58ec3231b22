def word_counts(documents: Sequence[str], n_processes: int) -> dict[str, int]:
    """Count the words of all ``documents`` with ``n_processes`` worker processes that share one
    ``Manager().dict()``; return the counts as a plain dict."""
    ctx = multiprocessing.get_context("spawn")
    with ctx.Manager() as manager:
        counts = manager.dict()
        lock = manager.Lock()
        processes = [
            ctx.Process(target=count_words,
                        kwargs={"documents": list(documents[i::n_processes]), "counts": counts, "lock": lock})
            for i in range(n_processes)
        ]
        for process in processes:
            process.start()
        for process in processes:
            process.join()
        result = dict(counts)
    return result
