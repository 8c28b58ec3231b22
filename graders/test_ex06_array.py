"""Grader for exercise 6: a shared Array with a lock, and disjoint slices without one."""
from __future__ import annotations

import math

import pytest

from mpgrade import Exercise, RaceRun, calls, check, fail, first_unlocked_place, judge_races, require_clean_exit, short

EXERCISE = Exercise(
    title="a shared Array with a lock, and disjoint slices without one",
    points=10,
    you_write="`bump_all`, `parallel_bump`, `square_slice`, `parallel_square`",
    goals="`Array`; one lock per atomic pass; disjoint slices need no lock",
)


@pytest.mark.points(3)
def test_parallel_bump_loses_no_update(student, rng):
    """parallel_bump adds n_processes * times to every element: no update is ever lost"""
    runs = []
    for _ in range(3):
        initial = [float(rng.randrange(-100, 100)) for _ in range(rng.randrange(4, 8))]
        processes, times = rng.randrange(2, 4), rng.randrange(10, 30)
        result = student.call("parallel_bump", initial, processes, times, timeout=60, races=True)
        got = result.value
        expected = [x + processes * times for x in initial]
        check(isinstance(got, list) and len(got) == len(initial),
              f"parallel_bump({short(initial)}, {processes}, {times}) returned {short(got)}; expected {short(expected)}.")
        runs.append(RaceRun(round(sum(expected) - sum(initial)), round(sum(got) - sum(initial)), result))
        if got != expected and not any(g < e for g, e in zip(got, expected)):
            fail(f"parallel_bump({short(initial)}, {processes}, {times}) returned {short(got)}; expected "
                 f"{short(expected)}. Every process adds 1.0 to every element {times} times.")
    judge_races(runs, student.path, "Hold the array's lock (with shared.get_lock(): ...) for each whole pass, "
                              "in every process.")


@pytest.mark.points(3)
def test_bump_all_holds_the_lock_for_each_pass(student, rng):
    """bump_all holds the array's lock for each whole pass over the array"""
    values = [float(rng.randrange(10)) for _ in range(5)]
    times = rng.randrange(3, 7)
    facts = student.drive("array_discipline", "bump_all", values, times,
                          what=f"bump_all(shared, {times})").value
    check(facts["values"] == [v + times for v in values],
          f"bump_all(shared, {times}) on {short(values)} left {short(facts['values'])}.")
    place, todo = first_unlocked_place(facts, student.path)
    if facts["unlocked_writes"] or facts["split_read_writes"]:
        fail(f"{place}bump_all writes the shared array without holding its lock "
             f"({facts['unlocked_writes']} of {facts['writes']} writes). Wrap each pass in "
             "`with shared.get_lock():`." + todo)
    if facts["write_holds"] > times:
        fail(f"bump_all took the lock {facts['write_holds']} times for {times} passes, so another process "
             "can see a half-updated array. Take the lock once per pass and update every element inside it.")


@pytest.mark.points(3)
def test_parallel_square_on_disjoint_slices(student, rng):
    """parallel_square squares every value, with one process per slice"""
    values = [rng.uniform(-100, 100) for _ in range(rng.randrange(10, 40))]
    processes = rng.randrange(2, 5)
    result = student.call("parallel_square", values, processes, timeout=60, races=True)
    got = result.value
    expected = [v * v for v in values]
    ok = isinstance(got, list) and len(got) == len(expected) and all(
        isinstance(g, float) and math.isclose(g, e, rel_tol=1e-12) for g, e in zip(got, expected))
    check(ok, f"parallel_square({short(values)}, {processes}) returned {short(got)}; expected {short(expected)}.")
    started = calls(result, "Process.start")
    check(started == processes,
          f"parallel_square started {started} process(es) for n_processes={processes}; start one per slice.")
    require_clean_exit(result, "parallel_square")
    judge_races([RaceRun(0, 0, result)], student.path,
          "Give each process its own slice of indices: no two processes may write the same element.")
