from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any, Callable, Sequence


def completed_order(func: Callable[[Any], Any], items: Sequence[Any], max_workers: int | None = None) -> list[tuple]:
    """Submit ``func(item)`` for every item to a ``ProcessPoolExecutor``; return ``(item, result)``
    pairs in the order the calls finish (use ``as_completed``)."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=max_workers, mp_context=context) as executor:
        future_to_item = {executor.submit(func, item): item for item in items}
        pairs = []
        for future in as_completed(future_to_item):
            pairs.append((future_to_item[future], future.result()))
    return pairs


def safe_results(func: Callable[[Any], Any], items: Sequence[Any]) -> list:
    """Return, in input order, ``func(item)`` for every item, or the exception instance the call
    raised in its worker; never raise."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(mp_context=context) as executor:
        futures = [executor.submit(func, item) for item in items]
    # leaving the with-block waited for every call
    results = []
    for future in futures:
        error = future.exception()
        results.append(future.result() if error is None else error)
    return results
