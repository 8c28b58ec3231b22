from __future__ import annotations

from concurrent.futures import ALL_COMPLETED, ProcessPoolExecutor, as_completed, wait
from functools import partial
from typing import Any, Callable, Sequence


def completed_order(func: Callable[[Any], Any], items: Sequence[Any], max_workers: int | None = None) -> list[tuple]:
    """Submit ``func(item)`` for every item to a ``ProcessPoolExecutor``; return ``(item, result)``
    pairs in the order the calls finish (use ``as_completed``)."""
    with ProcessPoolExecutor(max_workers) as executor:
        submit = partial(executor.submit, func)
        futures = [submit(item) for item in items]
        item_for = dict(zip(futures, items))
        return [(item_for[future], future.result()) for future in as_completed(futures)]


def safe_results(func: Callable[[Any], Any], items: Sequence[Any]) -> list:
    """Return, in input order, ``func(item)`` for every item, or the exception instance the call
    raised in its worker; never raise."""
    with ProcessPoolExecutor() as executor:
        futures = [executor.submit(func, item) for item in items]
        wait(futures, return_when=ALL_COMPLETED)
        return [future.exception() if future.exception() is not None else future.result() for future in futures]
