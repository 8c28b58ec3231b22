from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any, Callable, Sequence


# after: imports
def _workers_for(n_items: int, wanted: int | None = None) -> int:
    """As many workers as asked, else no more than the items or the CPUs (at least one)."""
    if wanted is not None:
        return wanted
    return max(1, min(n_items, os.cpu_count() or 1))


def completed_order(func: Callable[[Any], Any], items: Sequence[Any], max_workers: int | None = None) -> list[tuple]:
    """Submit ``func(item)`` for every item to a ``ProcessPoolExecutor``; return ``(item, result)``
    pairs in the order the calls finish (use ``as_completed``)."""
    items = list(items)
    with ProcessPoolExecutor(max_workers=_workers_for(len(items), max_workers)) as executor:
        pending = {executor.submit(func, item): item for item in items}
        order = []
        for future in as_completed(pending):
            order.append((pending.pop(future), future.result()))
        return order


def safe_results(func: Callable[[Any], Any], items: Sequence[Any]) -> list:
    """Return, in input order, ``func(item)`` for every item, or the exception instance the call
    raised in its worker; never raise."""
    items = list(items)
    with ProcessPoolExecutor(max_workers=_workers_for(len(items))) as executor:
        futures = [executor.submit(func, item) for item in items]
        return [error if (error := future.exception()) is not None else future.result() for future in futures]
