"""Grader for exercise 3: producer, consumers, sentinels, draining before join.

Points rest on effects: the results returned (random items, and fixed edge cases in one more sandboxed call
per check: fewer items than consumers, one item, none, a size not divisible by the consumers, repeated items),
the processes the witness saw start, the grader tasks it saw run and where, the exit codes of the joined
processes, and the processes left running. API counts only choose the words.
"""
from __future__ import annotations

import re
from collections import Counter

import pytest

from mpgrade import (
    CheckFailed, Exercise, GradingError, check, child_crash, fail, require_clean_exit, require_no_crash, short,
    started_processes, task, task_records, worker_pids,
)


EXERCISE = Exercise(
    title="producer, consumers, sentinels, draining before join",
    points=10,
    you_write="`produce`, `consume`, `process_all`",
    goals="producer/consumer over `Queue`s; one sentinel per consumer; drain the result queue before `join()`",
)

ON_SENTINEL = ("It failed on the sentinel (None): a consumer must check each item for SENTINEL first, and stop "
               "(break) before calling func on it.")


def _sentinel_note(result) -> str:
    """The sentinel hint, only when the crash shows a None where a value was expected."""
    return "\n" + ON_SENTINEL if "NoneType" in result.stderr.text else ""


def _edge_cases(student, function: str, cases: list[tuple], why: list[str], timeout: float | None = None,
                hang_ok: bool = False):
    """``student.each`` on a check's fixed edge cases; a hang names the case it stopped in (the last case mark)."""
    __tracebackhide__ = True
    try:
        return student.each(function, cases, timeout=timeout, hang_ok=hang_ok)
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
        args = ", ".join(short(a) for a in cases[index])
        raise CheckFailed(f"On the edge case {function}({args}) ({why[index]}):\n" + "\n".join(lines)
                          + _hang_hint(cases[index])) from None


def _hang_hint(case: tuple) -> str:
    """What a hang on this edge case points at (the same code finished on the random items, with fewer consumers
    than items): the sentinels, or the number of results read."""
    items, _, n_consumers = case
    if not items:
        return ("\nThe same code finished when there were items, so look at what it does with none: there are no "
                "results to read, and a loop that reads a result before it checks how many it has waits forever. "
                "Read exactly len(items) results (none here), then join.")
    if n_consumers > len(items):
        return (f"\nThe same code finished with fewer consumers than items, so look at what changes when they "
                f"outnumber the items ({n_consumers} consumers, {len(items)} item(s)): every consumer still needs "
                "a sentinel of its own to stop, so put SENTINEL n_consumers times, whatever the number of items.")
    return ""


def _results_text(call: str, items: list, got: list, expected: list) -> str:
    missing = list((Counter(expected) - Counter(got)).elements())
    extra = list((Counter(got) - Counter(expected)).elements())
    return (f"{call} returned {len(got)} results for {len(items)} items (missing {short(missing)}, "
            f"unexpected {short(extra)}).")


EVERY_EDGES_WHY = ["fewer items than consumers", "a single item", "no items",
                   "7 items for 3 consumers, some repeated"]


@pytest.mark.points(3)
def test_every_result_exactly_once(student, rng):
    """process_all returns func(item) for every item exactly once (also for fewer items than consumers, one item,
    no items, and repeated items)"""
    items = [rng.randrange(-100, 100) for _ in range(rng.randrange(8, 13))]
    result = student.call("process_all", items, task("square"), 3)
    got = result.value
    expected = [x * x for x in items]
    check(isinstance(got, list), f"process_all returned {short(got)}; return a list of results.")
    if Counter(got) != Counter(expected):
        text = _results_text(f"process_all({short(items)}, square, 3)", items, got, expected)
        crash = child_crash(result, student.path)
        if crash:
            fail(f"{text}\n{crash}{_sentinel_note(result)}")
        squared = len([r for r in task_records(result, "square") if r["args"] and r["args"][0] is not None])
        if squared == len(items) and len(got) < len(items):
            fail(f"{text} The consumers computed all {len(items)} results, so some stayed on the result queue: "
                 "read exactly len(items) results with results.get() (queue.empty() can be true while results "
                 "are still on their way).")
        fail(f"{text} Read exactly len(items) results from the result queue; every item must be processed "
             f"once (the kit saw func run {squared} time(s)).")

    cases = [([7, -3], task("square"), 4), ([5], task("square"), 3), ([], task("square"), 2),
             ([2, -2, 2, 0, 1, 1, -1], task("square"), 3)]
    edge, outcomes = _edge_cases(student, "process_all", cases, EVERY_EDGES_WHY, timeout=30)
    for (items, _, n), why, outcome in zip(cases, EVERY_EDGES_WHY, outcomes):
        call = f"process_all({short(items)}, square, {n})"
        if "raised" in outcome:
            raised = outcome["raised"]
            where = raised.get("where") or {}
            fail(f"On the edge case {call} ({why}) it raised {raised.get('type')}: {raised.get('message')}"
                 + (f"\n  at {where.get('file')}:{where.get('line')}: {where.get('source', '')}" if where else ""))
        got, expected = outcome.get("value"), [x * x for x in items]
        if not isinstance(got, list) or Counter(got) != Counter(expected):
            crash = child_crash(edge, student.path)
            fail(f"On the edge case ({why}): "
                 + (_results_text(call, items, got, expected) if isinstance(got, list)
                    else f"{call} returned {short(got)}; expected a list of {len(items)} results.")
                 + (f"\n{crash}{_sentinel_note(edge)}" if crash else
                    " Read exactly len(items) results from the result queue, whatever the number of items and "
                    "consumers: every item is processed once."))


ONE_PRODUCER_EDGES_WHY = ["fewer items than consumers", "a single item", "no items"]


@pytest.mark.points(3)
def test_one_producer_and_the_consumers_do_the_work(student, rng):
    """one producer process and n_consumers consumer processes; the consumers do the work and end without an error
    (also for fewer items than consumers, one item, and no items)"""
    n_consumers = 3
    items = list(range(12))
    # A deadlock is test_every_result_exactly_once's deduction: here the witness says who was started and who
    # did the work, whether the call returned or not.
    result = student.call("process_all", items, task("pause_square"), n_consumers, hang_ok=True)
    if not result.hung:
        check(sorted(result.value) == [x * x for x in items], f"process_all returned {short(result.value)}.")
    # A process the witness saw announce itself: never a Manager's server nor multiprocessing's helpers.
    started = len(started_processes(result, "process", "pool", "executor"))
    check(started == n_consumers + 1,
          f"process_all started {started} process(es); with n_consumers={n_consumers} it should start "
          f"{n_consumers + 1}: one producer and {n_consumers} consumers.")
    pids = worker_pids(result)
    check(result.runner_pid not in {r["pid"] for r in task_records(result)} and len(pids) >= 2,
          f"12 tasks of 0.1 s each were done by {len(pids)} process(es). The consumers should take "
          "items from the task queue until they read the sentinel, so the work spreads over them.")
    require_no_crash(result, student.path, "process_all", ON_SENTINEL if "NoneType" in result.stderr.text else "")
    if not result.hung:
        require_clean_exit(result, "process_all")

    cases = [([1, 2], task("pause_square"), 4), ([3], task("pause_square"), 2), ([], task("pause_square"), 2)]
    edge, outcomes = _edge_cases(student, "process_all", cases, ONE_PRODUCER_EDGES_WHY, timeout=30, hang_ok=True)
    what = "process_all on its edge cases (" + "; ".join(
        f"process_all({short(c[0])}, pause_square, {c[2]}): {why}"
        for c, why in zip(cases, ONE_PRODUCER_EDGES_WHY)) + ")"
    for (items, _, n), why, outcome in zip(cases, ONE_PRODUCER_EDGES_WHY, outcomes):
        got = outcome.get("value")
        if not isinstance(got, list) or sorted(got) != sorted(x * x for x in items):
            raised = outcome.get("raised") or {}
            fail(f"On the edge case process_all({short(items)}, pause_square, {n}) ({why}) it "
                 + (f"raised {raised.get('type')}: {raised.get('message')}" if raised else f"returned {short(got)}")
                 + f"; expected {sorted(x * x for x in items)} in any order.")
    in_caller = [r for r in task_records(edge, "pause_square") if r["pid"] == edge.runner_pid]
    check(not in_caller,
          f"{what}: {len(in_caller)} item(s) were processed in the calling process itself. The consumers, in "
          "processes of their own, call func on the items.")
    require_no_crash(edge, student.path, what, ON_SENTINEL if "NoneType" in edge.stderr.text else "")
    if not edge.hung:
        require_clean_exit(edge, what)


LARGE_EDGES_WHY = ["one large result, more consumers than items", "one consumer"]


@pytest.mark.points(3)
def test_large_results_do_not_deadlock(student):
    """large results (100 KB each) come back without a deadlock: drain the queue before join() (also with one item
    and more consumers, and with one consumer)"""
    items = list(range(8))
    result = student.call("process_all", items, task("big_result"), 2, timeout=15)
    _check_big(result.value, items, f"process_all({items}, big_result, 2)")
    require_clean_exit(result, "process_all")
    cases = [([0], task("big_result"), 3), ([0, 1, 2], task("big_result"), 1)]
    edge, outcomes = _edge_cases(student, "process_all", cases, LARGE_EDGES_WHY, timeout=30)
    for (items, _, n), why, outcome in zip(cases, LARGE_EDGES_WHY, outcomes):
        _check_big(outcome.get("value"), items, f"On the edge case process_all({items}, big_result, {n}) ({why})")
    require_clean_exit(edge, "process_all (on its edge cases: " + "; ".join(LARGE_EDGES_WHY) + ")")


def _check_big(value, items: list, call: str) -> None:
    __tracebackhide__ = True
    got = value if isinstance(value, list) else []
    heads = sorted(str(r).split(":")[0] for r in got)
    check(heads == sorted(str(i) for i in items) and all(len(str(r)) > 100_000 for r in got),
          f"{call} returned {len(got)} results for {len(items)} items of 100 KB each.")
