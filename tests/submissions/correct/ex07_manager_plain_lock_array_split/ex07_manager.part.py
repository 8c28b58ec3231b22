from __future__ import annotations

import multiprocessing
from typing import Any, Sequence

import numpy


def word_counts(documents: Sequence[str], n_processes: int) -> dict[str, int]:
    """Count the words of all ``documents`` with ``n_processes`` worker processes that share one
    ``Manager().dict()``; return the counts as a plain dict."""
    lock = multiprocessing.Lock()  # a plain lock is fine for Processes: it is inherited when they start
    indices = numpy.array_split(numpy.arange(len(documents)), n_processes)
    with multiprocessing.Manager() as manager:
        counts = manager.dict()
        processes = [multiprocessing.Process(target=count_words,
                                             args=([documents[int(i)] for i in share], counts, lock))
                     for share in indices]
        for process in processes:
            process.start()
        for process in processes:
            process.join()
        return dict(counts)
