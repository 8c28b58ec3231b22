"""Grader for exercise 8: ProcessPoolExecutor, as_completed, exceptions as values."""
from __future__ import annotations

import pytest

from mpgrade import (
    Exercise, RemoteException, calls, check, element_text, fail, first_difference, require_clean_exit, short, task,
    task_records,
)

EXERCISE = Exercise(
    title="ProcessPoolExecutor, as_completed, exceptions as values",
    points=10,
    you_write="`completed_order`, `safe_results`",
    goals="`ProcessPoolExecutor.submit`, `as_completed`, `future.exception()`",
)


@pytest.mark.points(4)
def test_pairs_come_in_completion_order(student, rng):
    """completed_order returns (item, result) pairs in the order the calls finish"""
    delays = [0.1, 0.6, 1.1]
    while delays == sorted(delays):
        rng.shuffle(delays)
    result = student.call("completed_order", task("echo_after"), delays, len(delays), timeout=30)
    got = result.value
    finished = [r["args"][0] for r in sorted(task_records(result), key=lambda r: r["end"])]
    check(isinstance(got, list) and all(isinstance(p, tuple) and len(p) == 2 for p in got),
          f"completed_order returned {short(got)}; return a list of (item, result) tuples.")
    check(sorted(got) == sorted((d, d) for d in delays),
          f"completed_order(echo_after, {delays}) returned {short(got)}; each pair should be (item, func(item)).")
    if [item for item, _ in got] != finished:
        fail(f"The calls finished in the order {finished} but completed_order returned the items in the "
             f"order {[item for item, _ in got]}. Iterate over as_completed(futures) to get each future "
             "as it finishes, and keep a dict from future to item.")


@pytest.mark.points(2)
def test_uses_a_process_pool_executor(student):
    """completed_order submits every item once to a ProcessPoolExecutor and leaves no worker running"""
    items = [0.0, 0.0, 0.0]
    result = student.call("completed_order", task("echo_after"), items, 2, timeout=30)
    check(calls(result, "ThreadPoolExecutor.submit") == 0,
          "completed_order uses a ThreadPoolExecutor; use concurrent.futures.ProcessPoolExecutor.")
    submitted = calls(result, "ProcessPoolExecutor.submit")
    if submitted != len(items):
        mapped = calls(result, "ProcessPoolExecutor.map")
        fail(f"completed_order called executor.submit {submitted} time(s) for {len(items)} items"
             + ("; it uses executor.map instead, which gives the results in input order, not as they finish. "
                if mapped else ". ")
             + "Submit each item once with executor.submit(func, item), then iterate as_completed(futures).")
    require_clean_exit(result, "completed_order")


@pytest.mark.points(3)
def test_safe_results_returns_exceptions_as_values(student, rng):
    """safe_results returns each result, or the exception the worker raised, in input order"""
    items = [rng.randrange(-50, 50) for _ in range(rng.randrange(5, 9))]
    items[rng.randrange(len(items))] = -abs(items[0]) - 1
    items[rng.randrange(len(items))] = abs(items[-1]) + 1
    got = student.call("safe_results", task("double_or_fail"), items, timeout=30).value
    expected = [RemoteException("ValueError", f"negative input {x}") if x < 0 else 2 * x for x in items]
    if got == expected:
        return
    text = f"safe_results(double_or_fail, {items}) returned {short(got, 200)}"
    if not isinstance(got, list):
        fail(f"{text}; return a list with one entry per item, in input order.")
    index = first_difference(got, expected)
    text += f": {element_text(got, expected, index, 'entry')}."
    if index is not None and index < len(got) and isinstance(expected[index], RemoteException) \
            and not isinstance(got[index], RemoteException):
        fail(f"{text} Where a call raised, put the exception instance itself in the list (a "
             f"{type(got[index]).__name__} is not the exception): error = future.exception(); append error when "
             "it is not None, else future.result().")
    if len(got) == len(expected) and sorted(map(repr, got)) == sorted(map(repr, expected)):
        fail(f"{text} Every entry is there, in another order: the order the calls finished "
             "(as_completed). Go through the futures in the order you submitted them (input order).")
    fail(f"{text} Expected {short(expected, 200)}: func(item), or the exception instance where a call "
         "raised, in input order. future.exception() gives the exception without raising it.")
