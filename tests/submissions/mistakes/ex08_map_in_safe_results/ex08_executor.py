"""Exercise 8: ProcessPoolExecutor, futures and as_completed.

Learning goals:
- ``executor.submit`` returns a ``Future`` at once,
- ``as_completed`` yields futures as they finish, not in submission order,
- ``future.result()`` re-raises a worker's exception; ``future.exception()``
  returns it, so one failure need not crash the whole batch.
"""
from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any, Callable, Sequence


def completed_order(func: Callable[[Any], Any], items: Sequence[Any], max_workers: int | None = None) -> list[tuple]:
    """Submit ``func(item)`` for every item to a ``ProcessPoolExecutor``; return ``(item, result)``
    pairs in the order the calls finish (use ``as_completed``)."""
    with ProcessPoolExecutor(max_workers=max_workers) as executor:
        futures = {executor.submit(func, item): item for item in items}
        return [(futures[future], future.result()) for future in as_completed(futures)]


def safe_results(func: Callable[[Any], Any], items: Sequence[Any]) -> list:
    """Return, in input order, ``func(item)`` for every item, or the exception instance the call
    raised in its worker; never raise."""
    with ProcessPoolExecutor() as executor:
        results = []
        try:
            for result in executor.map(func, items):
                results.append(result)
        except Exception as error:
            results.append(error)
        return results


def _inverse(x: float) -> float:
    return 1 / x


def main() -> None:
    print(completed_order(abs, [-3, 1, -2]))
    print(safe_results(_inverse, [1, 0, 4]))


if __name__ == "__main__":
    main()
