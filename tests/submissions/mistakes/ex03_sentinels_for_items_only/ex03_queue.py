"""Exercise 3: producer and consumers connected by queues.

Learning goals:
- one producer process puts tasks on a ``multiprocessing.Queue``,
- several consumer processes take tasks until they read a sentinel (one per consumer),
- results come back on a second queue,
- drain the result queue before joining: a process that has put large items
  on a queue does not exit until they are read, so joining first deadlocks.
"""
from __future__ import annotations

import multiprocessing
from typing import Any, Callable, Sequence

SENTINEL = None
"""Put on the task queue once per consumer: "no more work"."""


def produce(items: Sequence[Any], tasks: Any, n_consumers: int) -> None:
    """Producer process: put every item on ``tasks``, then one SENTINEL per consumer."""
    for item in items:
        tasks.put(item)
    # a consumer that gets no item needs no sentinel
    for _ in range(min(n_consumers, len(items))):
        tasks.put(SENTINEL)


def consume(func: Callable[[Any], Any], tasks: Any, results: Any) -> None:
    """Consumer process: take items from ``tasks`` until SENTINEL, putting ``func(item)`` on ``results``."""
    while True:
        item = tasks.get()
        if item is SENTINEL:
            break
        results.put(func(item))


def process_all(items: Sequence[Any], func: Callable[[Any], Any], n_consumers: int) -> list:
    """Return ``func(item)`` for every item (any order), computed by ``n_consumers`` consumer processes
    fed by one producer process."""
    tasks: Any = multiprocessing.Queue()
    results: Any = multiprocessing.Queue()
    producer = multiprocessing.Process(target=produce, args=(list(items), tasks, n_consumers))
    consumers = [multiprocessing.Process(target=consume, args=(func, tasks, results))
                 for _ in range(n_consumers)]
    producer.start()
    for consumer in consumers:
        consumer.start()
    collected = [results.get() for _ in range(len(items))]
    producer.join()
    for consumer in consumers:
        consumer.join()
    return collected


def _shout(word: str) -> str:
    return word.upper()


def main() -> None:
    print(sorted(process_all(["ant", "bee", "cat", "dog", "eel"], _shout, n_consumers=2)))


if __name__ == "__main__":
    main()
