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
    # BEGIN SOLUTION: put each item on the tasks queue, then put SENTINEL once for every consumer
    for item in items:
        tasks.put(item)
    for _ in range(n_consumers):
        tasks.put(SENTINEL)
    # END SOLUTION


def consume(func: Callable[[Any], Any], tasks: Any, results: Any) -> None:
    """Consumer process: take items from ``tasks`` until SENTINEL, putting ``func(item)`` on ``results``."""
    # BEGIN SOLUTION: loop: item = tasks.get(); stop when it is SENTINEL, else put func(item) on results
    while True:
        item = tasks.get()
        if item == "STOP":
            break
        if item is not None:
            results.put(func(item))
    # END SOLUTION


def process_all(items: Sequence[Any], func: Callable[[Any], Any], n_consumers: int) -> list:
    """Return ``func(item)`` for every item (any order), computed by ``n_consumers`` consumer processes
    fed by one producer process."""
    # BEGIN SOLUTION: make a task queue and a result queue, start one producer and n_consumers consumers, read len(items) results, then join everyone
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
    # END SOLUTION


def _shout(word: str) -> str:
    return word.upper()


def main() -> None:
    print(sorted(process_all(["ant", "bee", "cat", "dog", "eel"], _shout, n_consumers=2)))


if __name__ == "__main__":
    main()
