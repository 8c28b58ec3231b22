"""Grader for exercise 5: a shared Value and its lock."""
from __future__ import annotations

import pytest

from mpgrade import (
    Exercise, RaceRun, calls, check, fail, first_unlocked_place, judge_races, require_clean_exit, require_no_crash,
)

EXERCISE = Exercise(
    title="a shared Value and its lock",
    points=10,
    you_write="the lock in `increment`, `parallel_count`",
    goals="`Value`; why `+= 1` loses updates; `with counter.get_lock():`",
)


@pytest.mark.points(3)
def test_increment_holds_the_lock_for_each_update(student, rng):
    """increment holds the counter's lock around each read-and-write of counter.value"""
    n = rng.randrange(50, 200)
    facts = student.drive("value_discipline", "increment", n, what=f"increment(counter, {n})").value
    check(facts["value"] == n, f"increment(counter, {n}) left counter.value at {facts['value']}, not {n}.")
    if facts["unlocked_writes"] or facts["split_read_writes"]:
        place, todo = first_unlocked_place(facts, student.path)
        fail(f"{place}counter.value is read and written without holding the "
             f"counter's lock ({facts['unlocked_writes']} of {facts['writes']} writes unprotected, "
             f"{facts['split_read_writes']} read-then-write pairs not inside one hold). Another process can "
             "update the value between your read and your write, and its update is lost. Put the whole "
             "`counter.value += 1` inside `with counter.get_lock():`." + todo)


@pytest.mark.points(3)
def test_parallel_count_loses_no_update(student, rng):
    """parallel_count returns exactly n_processes * n_increments: no update is ever lost"""
    runs = []
    for _ in range(3):
        processes, increments = rng.randrange(2, 4), rng.randrange(200, 600)
        result = student.call("parallel_count", processes, increments, timeout=60, races=True)
        got = result.value
        if not isinstance(got, int):
            kind = type(got).__name__
            fail(f"parallel_count({processes}, {increments}) returned {got!r}"
                 + (f", a {kind}, not an int" if got is not None else "")
                 + ". Return counter.value (the number), after joining the processes.")
        started = calls(result, "Process.start")
        if got != processes * increments and started != processes:
            fail(f"parallel_count({processes}, {increments}) returned {got}; expected {processes * increments}. It "
                 f"started {started} process(es) for n_processes={processes}: start one Process per n_processes, "
                 "each running increment(counter, n_increments).")
        runs.append(RaceRun(processes * increments, got, result))
    judge_races(runs, student.path, "Hold the counter's lock around the whole `counter.value += 1` "
                              "(with counter.get_lock(): ...), in every process.")


@pytest.mark.points(3)
def test_parallel_count_runs_processes(student, rng):
    """parallel_count starts n_processes processes, joins them, and none of them fails"""
    processes = rng.randrange(2, 5)
    result = student.call("parallel_count", processes, 100)
    started = calls(result, "Process.start")
    check(started == processes,
          f"parallel_count({processes}, 100) started {started} process(es); start one Process per "
          "n_processes, each running increment(counter, n_increments).")
    require_no_crash(result, student.path, f"parallel_count({processes}, 100)")
    joined = calls(result, "Process.join")
    check(joined >= processes,
          f"parallel_count({processes}, 100) started {processes} processes and called join() {joined} time(s). "
          "join() every process before reading counter.value.")
    require_clean_exit(result, "parallel_count")
