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


def _add(counts: Any, lock: Any, word: str) -> None:
    with lock:
        counts[word] = counts.get(word, 0) + 1


def count_words(documents: Sequence[str], counts: Any, lock: Any) -> None:
    """Worker: add the words of ``documents`` to the shared ``counts`` dict, holding ``lock`` for each update."""
    # BEGIN SOLUTION: for every word (str.split()) of every document, with lock: counts[word] = counts.get(word, 0) + 1
    for document in documents:
        with lock:
            for word in document.split():
                _add(counts, lock, word)
    # END SOLUTION


def word_counts(documents: Sequence[str], n_processes: int) -> dict[str, int]:
    """Count the words of all ``documents`` with ``n_processes`` worker processes that share one
    ``Manager().dict()``; return the counts as a plain dict."""
    # BEGIN SOLUTION: with multiprocessing.Manager() as manager: make manager.dict() and manager.Lock(), give every process a share of the documents, start and join them, return dict(counts)
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
    # END SOLUTION


def main() -> None:
    documents = ["the cat sat", "the dog sat", "a cat and a dog"]
    print(word_counts(documents, n_processes=2))


if __name__ == "__main__":
    main()
