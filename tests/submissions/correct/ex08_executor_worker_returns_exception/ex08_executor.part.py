from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor, as_completed
from itertools import repeat
from typing import Any, Callable, Sequence


def completed_order(func: Callable[[Any], Any], items: Sequence[Any], max_workers: int | None = None) -> list[tuple]:
    """Submit ``func(item)`` for every item to a ``ProcessPoolExecutor``; return ``(item, result)``
    pairs in the order the calls finish (use ``as_completed``)."""
    futures: dict = {}
    with ProcessPoolExecutor(max_workers=max_workers) as executor:
        for item in items:
            futures[executor.submit(func, item)] = item
        pairs = []
        for future in as_completed(futures):
            item = futures[future]
            pairs.append((item, future.result()))
    return pairs


def _call_catching(func: Callable[[Any], Any], item: Any) -> Any:
    """Runs in a worker: func(item), or the exception it raised, returned as a value."""
    try:
        return func(item)
    except BaseException as error:
        return error


def safe_results(func: Callable[[Any], Any], items: Sequence[Any]) -> list:
    """Return, in input order, ``func(item)`` for every item, or the exception instance the call
    raised in its worker; never raise."""
    with ProcessPoolExecutor() as executor:
        return list(executor.map(_call_catching, repeat(func), items))
