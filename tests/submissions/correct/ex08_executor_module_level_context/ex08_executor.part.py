from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any, Callable, Sequence


# after: imports
MP_CONTEXT = multiprocessing.get_context("forkserver")
"""The start method for every executor in this module (creates nothing by itself)."""


def completed_order(func: Callable[[Any], Any], items: Sequence[Any], max_workers: int | None = None) -> list[tuple]:
    """Submit ``func(item)`` for every item to a ``ProcessPoolExecutor``; return ``(item, result)``
    pairs in the order the calls finish (use ``as_completed``)."""
    with ProcessPoolExecutor(max_workers=max_workers, mp_context=MP_CONTEXT) as executor:
        futures = {executor.submit(func, item): item for item in items}
        return [(futures[done], done.result()) for done in as_completed(futures)]


def safe_results(func: Callable[[Any], Any], items: Sequence[Any]) -> list:
    """Return, in input order, ``func(item)`` for every item, or the exception instance the call
    raised in its worker; never raise."""
    with ProcessPoolExecutor(mp_context=MP_CONTEXT) as executor:
        futures = [executor.submit(func, item) for item in items]
        results = []
        for future in futures:
            error = future.exception()
            results.append(error if error is not None else future.result())
    return results
