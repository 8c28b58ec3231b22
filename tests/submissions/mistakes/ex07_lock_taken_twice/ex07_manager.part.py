# after: imports
def _add(counts: Any, lock: Any, word: str) -> None:
    with lock:
        counts[word] = counts.get(word, 0) + 1


def count_words(documents: Sequence[str], counts: Any, lock: Any) -> None:
    """Worker: add the words of ``documents`` to the shared ``counts`` dict, holding ``lock`` for each update."""
    for document in documents:
        with lock:
            for word in document.split():
                _add(counts, lock, word)
