"""Grader for exercise 6: a shared Array with a lock, and disjoint slices without one."""
from __future__ import annotations

import math

import pytest

from mpgrade import (
    Exercise, RaceRun, calls, check, child_crash, differing, fail, find_races, first_unlocked_place, index_list,
    judge_races, race_text, require_clean_exit, short, started_with,
)


COPIES = ("list", "ndarray")
"""Argument types a child process gets a copy of (they are pickled), unlike a shared Array."""


def _isclose(a, b) -> bool:
    return isinstance(a, float) and isinstance(b, float) and math.isclose(a, b, rel_tol=1e-12)


def _square_mismatch(values: list[float], processes: int, got, result, path) -> str:
    """Why parallel_square's values are wrong, from the most specific evidence: a crash, an overlap (values
    squared twice, elements written by two processes), elements never squared, copies handed to the workers."""
    call = f"parallel_square(<{len(values)} values>, {processes})"
    if not isinstance(got, list) or len(got) != len(values):
        return (f"{call} returned {short(got)}; expected a list of {len(values)} floats "
                "(return list(shared) after joining).")
    crash = child_crash(result, path)
    if crash:
        return f"{call} returned wrong values: a process failed before squaring its slice.\n{crash}"
    expected = [v * v for v in values]
    wrong = differing(got, expected, _isclose)
    if not wrong:
        return f"{call} returned {short(got)}: return floats, list(shared) of the shared Array(\"d\", ...)."
    first = wrong[0]
    text = (f"{call} returned a wrong value at {len(wrong)} of {len(values)} indices. The first is index {first}: "
            f"{got[first]!r}, expected {expected[first]!r} (the square of {values[first]!r}).")
    twice = [i for i in wrong if _isclose(got[i], values[i] ** 4)]
    unchanged = [i for i in wrong if got[i] == values[i]]
    races = find_races(result)
    if twice or races:
        lines = [text]
        if twice:
            lines.append(f"Index {index_list(twice)} {'was' if len(twice) == 1 else 'were'} squared twice (the "
                         "value to the fourth power): two processes' slices both include "
                         f"{'it' if len(twice) == 1 else 'them'}, so the slices overlap.")
        if races:
            lines.append(race_text(races[0], path)[0])
        lines.append("Give each process its own slice: with bounds = [size * i // n for i in range(n + 1)], "
                     "process i squares range(bounds[i], bounds[i + 1]); a slice's stop is the next one's start "
                     "and is not part of it.")
        return "\n".join(lines)
    if unchanged and len(unchanged) == len(wrong):
        copy = started_with(result, COPIES)
        if len(unchanged) == len(values) and copy:
            kind = next(t for t in copy["arg_types"] if t in COPIES)
            return (f"{text} No value was squared in the shared Array: each process was handed a {kind} (an "
                    f"argument of {copy['target']}), which a child process gets as a copy, so it squared its "
                    "own copy. Pass the shared Array itself to every process.")
        return (f"{text} Index {index_list(unchanged)} {'was' if len(unchanged) == 1 else 'were'} never squared: "
                "no process squared "
                f"{'it' if len(unchanged) == 1 else 'them'}. Together the processes must square every index of "
                "range(len(values)): check each slice's bounds (the last one ends at len(values)) and that "
                "square_slice loops over all of range(start, stop).")
    return f"{text} Square each value exactly once, in place: shared[index] = shared[index] * shared[index]."

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
    """parallel_square squares every value, with one process per slice and no element written by two"""
    values = [rng.uniform(-100, 100) for _ in range(rng.randrange(10, 40))]
    processes = rng.randrange(2, 5)
    result = student.call("parallel_square", values, processes, timeout=60, races=True)
    got = result.value
    expected = [v * v for v in values]
    ok = isinstance(got, list) and len(got) == len(expected) and all(
        isinstance(g, float) and math.isclose(g, e, rel_tol=1e-12) for g, e in zip(got, expected))
    if not ok:
        fail(_square_mismatch(values, processes, got, result, student.path))
    started = calls(result, "Process.start")
    check(started == processes,
          f"parallel_square started {started} process(es) for n_processes={processes}; start one per slice.")
    require_clean_exit(result, "parallel_square")
    judge_races([RaceRun(0, 0, result)], student.path,
          "Give each process its own slice of indices: no two processes may write the same element.")
