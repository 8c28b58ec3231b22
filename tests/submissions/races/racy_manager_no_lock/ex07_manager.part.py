def count_words(documents: Sequence[str], counts: Any, lock: Any) -> None:
    """Worker: add the words of ``documents`` to the shared ``counts`` dict, holding ``lock`` for each update."""
    for document in documents:
        for word in document.split():
            counts[word] = counts.get(word, 0) + 1
