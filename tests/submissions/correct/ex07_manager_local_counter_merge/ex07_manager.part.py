from __future__ import annotations

import multiprocessing
from collections import Counter
from typing import Any, Sequence


def count_words(documents: Sequence[str], counts: Any, lock: Any) -> None:
    """Worker: add the words of ``documents`` to the shared ``counts`` dict, holding ``lock`` for each update."""
    local = Counter(word for document in documents for word in document.split())
    for word, number in local.items():  # one update per distinct word, each under the lock
        with lock:
            counts[word] = counts.get(word, 0) + number


def word_counts(documents: Sequence[str], n_processes: int) -> dict[str, int]:
    """Count the words of all ``documents`` with ``n_processes`` worker processes that share one
    ``Manager().dict()``; return the counts as a plain dict."""
    with multiprocessing.Manager() as manager:
        counts = manager.dict()
        lock = manager.Lock()
        processes = [multiprocessing.Process(target=count_words, args=(documents[i::n_processes], counts, lock))
                     for i in range(n_processes)]
        for process in processes:
            process.start()
        for process in processes:
            process.join()
        return dict(counts.items())
