"""Exercise 7: a dict shared through a Manager.

Learning goals:
- ``multiprocessing.Manager()`` runs a server process holding shared objects;
  other processes use them through proxies,
- each proxy call is atomic, but ``d[k] = d.get(k, 0) + 1`` is two calls:
  updates get lost unless a lock covers both,
- a ``manager.Lock()`` can be passed to worker processes like the dict.
"""
from __future__ import annotations

import multiprocessing
from typing import Any, Sequence


def count_words(documents: Sequence[str], counts: Any, lock: Any) -> None:
    """Worker: add the words of ``documents`` to the shared ``counts`` dict, holding ``lock`` for each update."""
    for document in documents:
        for word in document.split():
            with lock:
                counts[word] = counts.get(word, 0) + 1


def word_counts(documents: Sequence[str], n_processes: int) -> dict[str, int]:
    """Count the words of all ``documents`` with ``n_processes`` worker processes that share one
    ``Manager().dict()``; return the counts as a plain dict."""
    with multiprocessing.Manager() as manager:
        counts = manager.dict()
        lock = manager.Lock()
        size = len(documents) // n_processes
        shares = [list(documents[start:start + size]) for start in range(0, len(documents), size)]
        processes = [multiprocessing.Process(target=count_words, args=(share, counts, lock)) for share in shares]
        for process in processes:
            process.start()
        for process in processes:
            process.join()
        return dict(counts)


def main() -> None:
    documents = ["the cat sat", "the dog sat", "a cat and a dog"]
    print(word_counts(documents, n_processes=2))


if __name__ == "__main__":
    main()
