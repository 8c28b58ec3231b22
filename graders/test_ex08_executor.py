"""Grader for exercise 8: ProcessPoolExecutor, as_completed, exceptions as values."""
from __future__ import annotations

import re

import pytest

from mpgrade import (
    CheckFailed, Exercise, GradingError, RemoteException, calls, check, element_text, fail, first_difference,
    require_clean_exit, short, task, task_records,
)
from mpgrade import describe_raised

EXERCISE = Exercise(
    title="ProcessPoolExecutor, as_completed, exceptions as values",
    points=10,
    you_write="`completed_order`, `safe_results`",
    goals="`ProcessPoolExecutor.submit`, `as_completed`, `future.exception()`",
)

ORDER_EDGES = (("a single item", [0.05], 2), ("more workers than items", [0.5, 0.02], 4), ("no items", [], 2))
"""Fixed edge cases of completed_order besides the random order: (what it is, delays, max_workers). Every delay
appears once across all cases, so each witnessed task belongs to one case."""
WORKER_CASES = (("three items for 2 workers", [0.0, 0.01, 0.02], 2), ("a single item", [0.03], 2),
                ("more workers than items", [0.04, 0.05], 4), ("no items", [], 2))
SAFE_EDGES = (("failures in the middle, not only at the end", [4, -1, 0, -7, 5]), ("a single failing item", [-2]),
              ("a single item", [3]), ("no items", []))


def _each(student, function: str, cases: list[tuple], labels: list[str], timeout: float):
    """``student.each`` on a check's cases, in one sandbox; a hang names the case it stopped in (the last case
    mark the driver printed)."""
    __tracebackhide__ = True
    try:
        return student.each(function, cases, timeout=timeout)
    except GradingError:
        raise
    except CheckFailed as failure:
        marks = re.findall(r"\[mpgrade\] case (\d+)", failure.feedback)
        if not marks or int(marks[-1]) >= len(cases):
            raise
        index = int(marks[-1])
        lines = [line for line in failure.feedback.splitlines() if "[mpgrade] case" not in line]
        if lines and lines[-1].startswith("Your code printed"):
            lines.pop()
        call = f"{function}({', '.join(short(a) for a in cases[index])})"
        where = f"the edge case {call} ({labels[index]})" if labels[index] else f"the case {call}"
        raise CheckFailed(f"On {where}:\n" + "\n".join(lines)) from None


def _order_call(items: list, workers) -> str:
    return f"completed_order(echo_after, {short(items)}, {workers})"


def _finish_order(result, items: list) -> list:
    """The items of one case in the order their calls finished, as witnessed: in worker processes (a call run
    again in the caller does not count), or in the caller when none ran elsewhere (threads)."""
    wanted = set(items)
    records = [r for r in task_records(result, "echo_after") if r["args"][0] in wanted]
    elsewhere = [r for r in records if r.get("pid") != result.runner_pid]
    ends: dict = {}
    for record in elsewhere or records:
        item = record["args"][0]
        ends[item] = min(ends.get(item, record["end"]), record["end"])
    return sorted(ends, key=ends.get)


def _order_problem(result, items: list, workers, outcome: dict, student) -> str:
    """What is wrong with completed_order's answer for one case, or "" if nothing is."""
    call = _order_call(items, workers)
    if "raised" in outcome:
        return describe_raised(f"`{call}`", outcome["raised"], student.path, result.api_calls)
    got = outcome.get("value")
    if not (isinstance(got, list) and all(isinstance(p, tuple) and len(p) == 2 for p in got)):
        return f"{call} returned {short(got)}; return a list of (item, result) tuples."
    if sorted(got) != sorted((d, d) for d in items):
        got_items, got_results = [item for item, _ in got], [value for _, value in got]
        if got_items == list(items) and sorted(got_results) == sorted(items):
            return (f"{call} returned {short(got, 200)}: the items are in input order but the results in the order "
                    "the calls finished, so an item is paired with another item's result. as_completed() yields "
                    "the futures in the order they complete, not in the order of items, so zipping items with "
                    "as_completed(...) pairs them wrongly. Keep a dict from each future to its item, "
                    "{executor.submit(func, item): item for item in items}, and build each pair from the future "
                    "as_completed gives: (futures[future], future.result()).")
        return f"{call} returned {short(got, 200)}; each pair should be (item, func(item)), one per item."
    finished = _finish_order(result, items)
    order = [item for item, _ in got]
    if len(finished) == len(items) and order != finished:
        if calls(result, "ProcessPoolExecutor.map"):
            return (f"The calls of {call} finished in the order {finished} but it returned the items in the order "
                    f"{order}: it uses executor.map, which gives the results in input order, not as they finish. "
                    "Submit each item with executor.submit(func, item), keep a dict from future to item, and "
                    "iterate over as_completed(futures).")
        return (f"The calls of {call} finished in the order {finished} but it returned the items in the order "
                f"{order}. Iterate over as_completed(futures) to get each future as it finishes, and keep a dict "
                "from future to item.")
    return ""


@pytest.mark.points(4)
def test_pairs_come_in_completion_order(student, rng):
    """completed_order returns (item, result) pairs in the order the calls finish, as witnessed: a random order,
    and fixed edge cases (one item, more workers than items, no items)"""
    delays = [0.1, 0.6, 1.1]
    while delays == sorted(delays):
        rng.shuffle(delays)
    cases = [("", delays, len(delays)), *ORDER_EDGES]
    result, outcomes = _each(student, "completed_order", [(task("echo_after"), items, workers)
                                                          for _, items, workers in cases], [c[0] for c in cases], 40)
    for (label, items, workers), outcome in zip(cases, outcomes):
        problem = _order_problem(result, items, workers, outcome, student)
        if problem:
            fail(f"On a fixed edge case ({label}): {problem}" if label else problem)


def _who_ran(result, item) -> tuple[list[dict], list[dict], list[dict]]:
    """(executor workers, the calling process, any other process) that ran echo_after(item), as witnessed."""
    roles = {p["pid"]: p.get("role") for p in result.processes}
    records = [r for r in task_records(result, "echo_after") if r["args"][0] == item]
    if not result.witnessed:  # no witness on this platform: the runner's word for which process is the caller
        caller = [r for r in records if r.get("pid") == result.runner_pid]
        return [r for r in records if r not in caller], caller, []
    caller = [r for r in records if r.get("pid") == result.runner_pid]
    executor = [r for r in records if roles.get(r.get("pid")) == "executor"]
    return executor, caller, [r for r in records if r not in caller and r not in executor]


@pytest.mark.points(2)
def test_uses_a_process_pool_executor(student):
    """completed_order runs func once per item in a ProcessPoolExecutor's workers, and leaves none running

    As seen from outside the student's processes: three items, one, more workers than items, none."""
    result, outcomes = _each(student, "completed_order", [(task("echo_after"), items, workers)
                                                          for _, items, workers in WORKER_CASES],
                             [c[0] for c in WORKER_CASES], 40)
    for (label, items, workers), outcome in zip(WORKER_CASES, outcomes):
        if "raised" in outcome:  # its error first (a stub's TODO, a crash): nothing else can be judged
            fail(describe_raised(f"`{_order_call(items, workers)}` ({label})", outcome["raised"], student.path,
                         result.api_calls))
    roles = {p["pid"]: p.get("role") for p in result.processes}
    for label, items, workers in WORKER_CASES:
        call = f"{_order_call(items, workers)} ({label})"
        for item in items:
            executor, caller, other = _who_ran(result, item)
            if caller and executor:
                fail(f"{call} ran echo_after({item}) twice: once in a ProcessPoolExecutor worker, and again in the "
                     "calling process. future.result() gives the value the worker computed; do not call func "
                     "again to make the pair.")
            if caller:
                if calls(result, "ThreadPoolExecutor.submit"):
                    fail(f"{call} ran echo_after({item}) in the calling process: it uses a ThreadPoolExecutor, "
                         "whose threads run in the caller. Use concurrent.futures.ProcessPoolExecutor, whose "
                         "workers are separate processes.")
                fail(f"{call} ran echo_after({item}) in the calling process, not in a worker process. Submit it to "
                     "a concurrent.futures.ProcessPoolExecutor: executor.submit(func, item).")
            if other:
                kind = {"pool": "a multiprocessing.Pool's worker", "process": "a Process of your own"}.get(
                    roles.get(other[0].get("pid")), "another process")
                fail(f"{call} ran echo_after({item}) in {kind}, not in a ProcessPoolExecutor's worker. Submit "
                     "every item to a concurrent.futures.ProcessPoolExecutor: executor.submit(func, item).")
            check(executor, f"{call} never ran echo_after({item}): submit every item once, with "
                            "executor.submit(func, item).")
            check(len(executor) == 1, f"{call} ran echo_after({item}) {len(executor)} times in the executor's "
                                      "workers: submit every item exactly once.")
    require_clean_exit(result, "completed_order")


def _safe_expected(items: list) -> list:
    return [RemoteException("ValueError", f"negative input {x}") if x < 0 else 2 * x for x in items]


def _safe_problem(student, result, items: list, outcome: dict) -> str:
    """What is wrong with safe_results' answer for one case, or "" if nothing is."""
    call = f"safe_results(double_or_fail, {short(items)})"
    if "raised" in outcome:
        return describe_raised(f"`{call}`", outcome["raised"], student.path, result.api_calls)
    got, expected = outcome.get("value"), _safe_expected(items)
    if got == expected:
        return ""
    text = f"{call} returned {short(got, 200)}"
    if not isinstance(got, list):
        return f"{text}; return a list with one entry per item, in input order."
    index = first_difference(got, expected)
    text += f": {element_text(got, expected, index, 'result')}."
    failed = next((i for i, e in enumerate(expected) if isinstance(e, RemoteException)), None)
    if failed is not None and failed < len(expected) - 1 and got[:failed + 1] == expected[:failed + 1] \
            and index is not None and index > failed:
        first = (f"executor.map's iterator re-raises the first exception a call raised (double_or_fail("
                 f"{items[failed]}), at index {failed}) when the loop reaches it, and then stops: it never gives the "
                 "results after it" if calls(result, "ProcessPoolExecutor.map") else
                 f"it stopped at the first exception (double_or_fail({items[failed]}), at index {failed})")
        return (f"{text} Everything up to the first failure is right, but {first}, so the "
                f"items after index {failed} got no right entry. Submit each item with executor.submit(func, item), "
                "then for each future in input order call future.result() inside its own try/except (or use "
                "future.exception()), so one failure does not stop the others.")
    if index is not None and index < len(got) and isinstance(expected[index], RemoteException) \
            and not isinstance(got[index], RemoteException):
        return (f"{text} Where a call raised, put the exception instance itself in the list (a "
                f"{type(got[index]).__name__} is not the exception): error = future.exception(); append error when "
                "it is not None, else future.result().")
    if len(got) == len(expected) and sorted(map(repr, got)) == sorted(map(repr, expected)):
        return (f"{text} Every entry is there, in another order: the order the calls finished "
                "(as_completed). Go through the futures in the order you submitted them (input order).")
    return (f"{text} Expected {short(expected, 200)}: func(item), or the exception instance where a call "
            "raised, in input order. future.exception() gives the exception without raising it.")


@pytest.mark.points(3)
def test_safe_results_returns_exceptions_as_values(student, rng):
    """safe_results returns each result, or the exception the worker raised, in input order: fixed edge cases
    (failures in the middle, one failing item, one item, no items), then random items"""
    items = [rng.randrange(-50, 50) for _ in range(rng.randrange(5, 9))]
    items[rng.randrange(len(items))] = -abs(items[0]) - 1
    items[rng.randrange(len(items))] = abs(items[-1]) + 1
    cases = [*SAFE_EDGES, ("", items)]
    result, outcomes = _each(student, "safe_results", [(task("double_or_fail"), case) for _, case in cases],
                             [c[0] for c in cases], 40)
    for (label, case), outcome in zip(cases, outcomes):
        problem = _safe_problem(student, result, case, outcome)
        if problem:
            fail(f"On a fixed edge case ({label}): {problem}" if label else problem)
