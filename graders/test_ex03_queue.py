"""Grader for exercise 3: producer, consumers, sentinels, draining before join."""
from __future__ import annotations

from collections import Counter

import pytest

from mpgrade import (
    Exercise, calls, check, child_crash, fail, require_clean_exit, require_no_crash, short, task, task_records,
    worker_pids,
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


@pytest.mark.points(3)
def test_every_result_exactly_once(student, rng):
    """process_all returns func(item) for every item exactly once"""
    items = [rng.randrange(-100, 100) for _ in range(rng.randrange(8, 13))]
    result = student.call("process_all", items, task("square"), 3)
    got = result.value
    expected = [x * x for x in items]
    check(isinstance(got, list), f"process_all returned {short(got)}; return a list of results.")
    if Counter(got) != Counter(expected):
        missing = list((Counter(expected) - Counter(got)).elements())
        extra = list((Counter(got) - Counter(expected)).elements())
        text = (f"process_all({short(items)}, square, 3) returned {len(got)} results for {len(items)} items "
                f"(missing {short(missing)}, unexpected {short(extra)}).")
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


@pytest.mark.points(3)
def test_one_producer_and_the_consumers_do_the_work(student, rng):
    """one producer process and n_consumers consumer processes; the consumers do the work and end without an error"""
    n_consumers = 3
    items = list(range(12))
    result = student.call("process_all", items, task("pause_square"), n_consumers)
    check(sorted(result.value) == [x * x for x in items], f"process_all returned {short(result.value)}.")
    started = calls(result, "Process.start")
    check(started == n_consumers + 1,
          f"process_all started {started} process(es); with n_consumers={n_consumers} it should start "
          f"{n_consumers + 1}: one producer and {n_consumers} consumers.")
    pids = worker_pids(result)
    check(result.runner_pid not in {r["pid"] for r in task_records(result)} and len(pids) >= 2,
          f"12 tasks of 0.1 s each were done by {len(pids)} process(es). The consumers should take "
          "items from the task queue until they read the sentinel, so the work spreads over them.")
    require_no_crash(result, student.path, "process_all", ON_SENTINEL if "NoneType" in result.stderr.text else "")
    require_clean_exit(result, "process_all")


@pytest.mark.points(3)
def test_large_results_do_not_deadlock(student):
    """large results (100 KB each) come back without a deadlock: drain the queue before join()"""
    items = list(range(8))
    result = student.call("process_all", items, task("big_result"), 2, timeout=15)
    got = result.value if isinstance(result.value, list) else []
    heads = sorted(str(r).split(":")[0] for r in got)
    check(heads == sorted(str(i) for i in items) and all(len(str(r)) > 100_000 for r in got),
          f"process_all returned {len(got)} results for {len(items)} items of 100 KB each.")
    require_clean_exit(result, "process_all")
