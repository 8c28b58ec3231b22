def count_words(documents: Sequence[str], counts: Any, lock: Any) -> None:
    """Worker: add the words of ``documents`` to the shared ``counts`` dict, holding ``lock`` for each update."""
    for document in documents:
        for word in document.split():
            lock.acquire()
            try:
                if word in counts:
                    counts[word] += 1
                else:
                    counts[word] = 1
            finally:
                lock.release()


def _contiguous_shares(items: list, parts: int) -> list[list]:
    size, extra = divmod(len(items), parts)
    shares, start = [], 0
    for part in range(parts):
        stop = start + size + (part < extra)
        shares.append(items[start:stop])
        start = stop
    return shares


def word_counts(documents: Sequence[str], n_processes: int) -> dict[str, int]:
    """Count the words of all ``documents`` with ``n_processes`` worker processes that share one
    ``Manager().dict()``; return the counts as a plain dict."""
    with multiprocessing.Manager() as manager:
        counts = manager.dict()
        lock = manager.Lock()
        workers = []
        for share in _contiguous_shares(list(documents), n_processes):
            worker = multiprocessing.Process(target=count_words, args=(share, counts, lock))
            worker.start()
            workers.append(worker)
        for worker in workers:
            worker.join()
        return {word: counts[word] for word in counts.keys()}
