from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from typing import Any, Sequence


def word_counts(documents: Sequence[str], n_processes: int) -> dict[str, int]:
    """Count the words of all ``documents`` with ``n_processes`` worker processes that share one
    ``Manager().dict()``; return the counts as a plain dict."""
    with multiprocessing.Manager() as manager:
        counts = manager.dict()
        lock = manager.Lock()
        with ProcessPoolExecutor(max_workers=n_processes) as executor:
            futures = [executor.submit(count_words, documents[i::n_processes], counts, lock)
                       for i in range(n_processes)]
            for future in futures:
                future.result()
        return dict(counts)
