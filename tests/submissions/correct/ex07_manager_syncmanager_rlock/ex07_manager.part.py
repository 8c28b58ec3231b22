from __future__ import annotations

import multiprocessing
from multiprocessing.managers import SyncManager
from typing import Any, Sequence


def count_words(documents: Sequence[str], counts: Any, lock: Any) -> None:
    """Worker: add the words of ``documents`` to the shared ``counts`` dict, holding ``lock`` for each update."""
    words = [word for document in documents for word in document.split()]
    for word in words:
        with lock:
            current = counts.setdefault(word, 0)
            counts[word] = current + 1


def word_counts(documents: Sequence[str], n_processes: int) -> dict[str, int]:
    """Count the words of all ``documents`` with ``n_processes`` worker processes that share one
    ``Manager().dict()``; return the counts as a plain dict."""
    manager = SyncManager()
    manager.start()
    try:
        counts = manager.dict()
        lock = manager.RLock()
        processes = [multiprocessing.Process(target=count_words, args=(documents[i::n_processes], counts, lock))
                     for i in range(n_processes)]
        for process in processes:
            process.start()
        for process in processes:
            process.join()
        return {key: value for key, value in counts.items()}
    finally:
        manager.shutdown()
