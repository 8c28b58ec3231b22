from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any, Callable, Sequence


def completed_order(func: Callable[[Any], Any], items: Sequence[Any], max_workers: int | None = None) -> list[tuple]:
    """Submit ``func(item)`` for every item to a ``ProcessPoolExecutor``; return ``(item, result)``
    pairs in the order the calls finish (use ``as_completed``)."""
    with ProcessPoolExecutor(max_workers=max_workers) as executor:
        index_of = {executor.submit(func, item): index for index, item in enumerate(items)}
        return [(items[index_of[future]], future.result()) for future in as_completed(index_of)]


def safe_results(func: Callable[[Any], Any], items: Sequence[Any]) -> list:
    """Return, in input order, ``func(item)`` for every item, or the exception instance the call
    raised in its worker; never raise."""
    outcomes = []
    with ProcessPoolExecutor() as executor:
        for future in [executor.submit(func, item) for item in items]:
            if future.exception() is None:
                outcomes.append(future.result())
            else:
                outcomes.append(future.exception())
    return outcomes


if __name__ == "__main__":
    multiprocessing.freeze_support()
    main()
