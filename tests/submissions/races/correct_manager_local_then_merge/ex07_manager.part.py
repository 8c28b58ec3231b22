def count_words(documents: Sequence[str], counts: Any, lock: Any) -> None:
    """Worker: add the words of ``documents`` to the shared ``counts`` dict, holding ``lock`` for each update."""
    local = {}
    for document in documents:
        for word in document.split():
            local[word] = local.get(word, 0) + 1
    with lock:
        for word, n in local.items():
            counts[word] = counts.get(word, 0) + n
