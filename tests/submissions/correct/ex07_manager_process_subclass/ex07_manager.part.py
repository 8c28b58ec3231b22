# after: count_words
class WordCounter(multiprocessing.Process):
    """A worker process that counts its documents into the shared dict."""

    def __init__(self, documents: Sequence[str], counts: Any, lock: Any) -> None:
        super().__init__(daemon=True)
        self.documents = list(documents)
        self.counts = counts
        self.lock = lock

    def run(self) -> None:
        count_words(self.documents, self.counts, self.lock)


def word_counts(documents: Sequence[str], n_processes: int) -> dict[str, int]:
    """Count the words of all ``documents`` with ``n_processes`` worker processes that share one
    ``Manager().dict()``; return the counts as a plain dict."""
    with multiprocessing.Manager() as manager:
        counts = manager.dict()
        lock = manager.Lock()
        workers = [WordCounter(documents[i::n_processes], counts, lock) for i in range(n_processes)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        return dict(counts)
