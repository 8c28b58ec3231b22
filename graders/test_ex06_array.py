"""Grader for exercise 6: a shared Array with a lock, and disjoint slices without one.

The points rest on what happened: the values returned (for sizes not divisible by the number of processes,
more processes than values, one value, none, and random ones), the processes the kit saw start and still
running at the end, and the reads and writes of the Array the kit recorded with and without its lock. Counts
of API calls only choose the words.
"""
from __future__ import annotations

import dataclasses
import math

import pytest

from mpgrade import (
    CheckFailed, Exercise, RaceRun, calls, check, child_crash, differing, fail, find_races, first_unlocked_place,
    index_list, judge_races, race_text, require_clean_exit, short, started_processes, started_with, still_running,
    worker_error,
)
from mpgrade import describe_raised


GENERIC_FIX = "Read the error and the line above; fix the cause, then run the check again."
"""The kit's words for an error with no more specific cause (replaced when this grader knows one)."""
COPIES = ("list", "ndarray")
"""Argument types a child process gets a copy of (they are pickled), unlike a shared Array."""


BUMP_EDGES = [([5.0], 3, 2), ([], 2, 3), ([1.5, -2.0, 0.0], 1, 0), ([0.0, 10.0, 20.0, -30.0], 4, 1)]
"""(initial, n_processes, times) every grading runs: more processes than values, no values, one process that
does nothing, one pass each."""
SQUARE_EDGES = [([1.5, -2.0, 3.0, 0.5, -4.0, 2.5, 10.0], 3), ([3.0, -1.5], 4), ([-7.0], 2), ([], 2),
                ([2.0, -3.0, 0.25, 6.0, -1.0], 4)]
"""(values, n_processes) every grading runs: 7 values in 3 slices (a remainder), more processes than values, one
value, none, and 5 values in 4 slices (slices of 2 would need only 3 processes)."""


def _misread_helper(result, process: dict) -> bool:
    """A process the witness could not name ('unannounced' or 'other') and saw alive at the end, which the runner,
    reading command lines at the end, did not count as left running: multiprocessing's resource tracker or fork
    server (spawn, forkserver), first seen between its fork and its exec. Not the student's (a limit of the witness, which reads a process's command line when it starts, not at the end)."""
    if process.get("role") not in ("unannounced", "other") or not process.get("alive_at_end"):
        return False
    runner_saw = {child.get("pid") for child in result.live_children}
    if runner_saw & {p.get("pid") for p in result.processes}:  # the runner and the witness share PIDs
        return process.get("pid") not in runner_saw
    return not runner_saw


def _workers(result) -> list[dict]:
    """The worker processes the call started, as witnessed (see ``_misread_helper``)."""
    return [p for p in started_processes(result) if not _misread_helper(result, p)]


def _own_processes(result) -> int:
    """How many of the workers are the student's own Process objects (which the student must join; a Pool's and
    an executor's workers are joined by their with-block)."""
    return sum(1 for p in _workers(result) if p.get("role") in ("process", "unannounced"))


def _still_running(result) -> list[dict]:
    """The processes still running when the call returned, as witnessed (see ``_misread_helper``)."""
    return [p for p in still_running(result) if not _misread_helper(result, p)]


def _require_clean_exit(result, what: str) -> None:
    """``require_clean_exit`` on the processes (without the misread helper, see ``_misread_helper``). Not on
    /dev/shm: this exercise makes no SharedMemory block (its Array and Value live in multiprocessing's heap, whose
    files are unlinked at once), and on a machine grading several submissions at once a block another call left
    there has been put down to this one (the witness cannot tell whose a nameless block is)."""
    __tracebackhide__ = True
    processes = [p for p in result.processes if not _misread_helper(result, p)]
    require_clean_exit(dataclasses.replace(result, processes=processes, shm_left=[]), what)


def _crash(result, path) -> str:
    """A child that failed: from its exit code (if it was joined) or the traceback it printed."""
    return child_crash(result, path) or worker_error(result, path)


def _tracked_call(student, function: str, *args, timeout: float):
    """``student.call(..., races=True)``; untracked when the kit's recording Array cannot stand in for the real one
    (it has no buffer protocol, so np.frombuffer(shared) and memoryview(shared) fail on it). The values and processes are still judged; only the race recording is lost."""
    __tracebackhide__ = True
    try:
        return student.call(function, *args, timeout=timeout, races=True)
    except CheckFailed as failure:
        if "TrackedArray" not in failure.feedback:
            raise
        return student.call(function, *args, timeout=timeout)


def _isclose(a, b) -> bool:
    return isinstance(a, float) and isinstance(b, float) and math.isclose(a, b, rel_tol=1e-12)


def _square_mismatch(values: list[float], processes: int, got, result, path) -> str:
    """Why parallel_square's values are wrong, from the most specific evidence: a crash, an overlap (values
    squared twice, elements written by two processes), elements never squared, copies handed to the workers."""
    shown = short(values) if len(values) <= 8 else f"<{len(values)} values>"
    call = f"parallel_square({shown}, {processes})"
    if not isinstance(got, list) or len(got) != len(values):
        return (f"{call} returned {short(got)}; expected a list of {len(values)} floats "
                "(return list(shared) after joining).")
    crash = _crash(result, path)
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
        remainder = len(values) % processes
        if remainder and unchanged == list(range(len(values) - remainder, len(values))):
            return (f"{text} Index {index_list(unchanged)} {'was' if remainder == 1 else 'were'} never squared: "
                    f"the last {len(values)} % {processes} = {remainder} value(s), the remainder that slices of "
                    f"len(values) // n_processes = {len(values) // processes} leave out. Let the slices cover "
                    "range(len(values)) to its end: bounds = [size * i // n for i in range(n + 1)], process i "
                    "squares range(bounds[i], bounds[i + 1]).")
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


def _bump_problem(student, result, cases, outcomes) -> str:
    """The first edge case of parallel_bump that raised or returned wrong values, in words; "" if none did."""
    for (initial, processes, times), outcome in zip(cases, outcomes):
        call = f"parallel_bump({short(initial)}, {processes}, {times})"
        expected = [x + processes * times for x in initial]
        if "raised" in outcome:
            crash = _crash(result, student.path)
            return describe_raised(call, outcome["raised"], student.path) + (f"\n{crash}" if crash else "")
        got = outcome.get("value")
        if isinstance(got, list) and len(got) == len(expected) and all(map(_isclose, got, expected)):
            continue
        text = f"{call} returned {short(got)}; expected {short(expected)}."
        if not isinstance(got, list) or len(got) != len(expected):
            return f"{text} Return list(shared): one float per element, after joining the processes."
        workers, asked = len(_workers(result)), sum(p for _, p, _ in cases)
        joined, alive, own = calls(result, "Process.join"), len(_still_running(result)), _own_processes(result)
        # Not joined first: a process started after its caller returned cannot open the Array, and may die
        # before the kit could see it start.
        if alive or joined < own:
            return (f"{text} It read the Array before its processes had finished: it started {own} process(es) "
                    f"and called join() {joined} time(s). join() every process before reading the shared result.")
        if workers != asked:
            calls(result, "Process.start")  # the words rest on the kit's counts: a faked count fails as tampering
            return (f"{text} For n_processes={'+'.join(str(p) for _, p, _ in cases)} in these calls it started "
                    f"{workers} process(es) in all, not {asked}: start one Process per n_processes, each running "
                    "bump_all(shared, times) on the one shared Array.")
        crash = _crash(result, student.path)
        if crash:
            return f"{text}\n{crash}\nA process that fails stops before its work is done."
        return f"{text} Every process adds 1.0 to every element {times} times, on the one shared Array."
    return ""


@pytest.mark.points(3)
def test_parallel_bump_loses_no_update(student, rng):
    """parallel_bump adds n_processes * times to every element (more processes than values, none, one): no update is lost"""
    result, outcomes = student.each("parallel_bump", BUMP_EDGES, timeout=60)
    problem = _bump_problem(student, result, BUMP_EDGES, outcomes)
    runs = []
    if problem and _only_short(BUMP_EDGES, outcomes):
        # Lost updates, not a wrong split: the race runs below name the racy line; these count as evidence.
        added = sum(len(initial) * n * times for initial, n, times in BUMP_EDGES)
        got = sum(sum(o["value"]) - sum(initial) for (initial, _, _), o in zip(BUMP_EDGES, outcomes))
        runs.append(RaceRun(round(added), round(got), result))
    elif problem:
        fail(problem)
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


def _only_short(edges: list, outcomes: list[dict]) -> bool:
    """Every edge case returned its elements, none above what it should be: what lost updates leave."""
    for (initial, n, times), outcome in zip(edges, outcomes):
        got = outcome.get("value")
        if "raised" in outcome or not isinstance(got, list) or len(got) != len(initial) or any(
                not isinstance(g, (int, float)) or g > x + n * times for g, x in zip(got, initial)):
            return False
    return True


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


def _expected_squares(values: list, got) -> bool:
    return isinstance(got, list) and len(got) == len(values) and all(
        isinstance(g, float) and math.isclose(g, v * v, rel_tol=1e-12) for g, v in zip(got, values))


def _square_edges(student, cases: list[tuple[list, int]]):
    """parallel_square on ``cases`` in one sandbox; fail on the first that raised or returned wrong values."""
    __tracebackhide__ = True
    result, outcomes = student.each("parallel_square", cases, timeout=60)
    for (values, processes), outcome in zip(cases, outcomes):
        if "raised" in outcome:
            error, crash = outcome["raised"], _crash(result, student.path)
            text = describe_raised(f"parallel_square({short(values)}, {processes})", error, student.path)
            zero = error.get("type") == "ZeroDivisionError" or "must not be zero" in str(error.get("message"))
            if zero and len(values) < processes:
                text = text.replace(GENERIC_FIX, (
                    f"With more processes ({processes}) than values ({len(values)}), a slice size of "
                    "len(values) // n_processes (or a rounded-up one, with no values) is 0. Compute each slice's "
                    "bounds instead: bounds = [size * i // n for i in range(n + 1)] gives every process a slice, "
                    "some of them empty."))
            fail(text + (f"\n{crash}" if crash else ""))
        if not _expected_squares(values, outcome.get("value")):
            fail(_square_mismatch(values, processes, outcome.get("value"), result, student.path))
    return result


@pytest.mark.points(3)
def test_parallel_square_on_disjoint_slices(student, rng):
    """parallel_square squares every value, one process per disjoint slice (remainders, more processes than values, one, none)"""
    # Two sandboxes, so that the count of one (n_processes each) cannot hide in the other's slack (a process for
    # an empty slice may be left out).
    even_enough = [case for case in SQUARE_EDGES if len(case[0]) >= case[1]]
    fewer_values = [case for case in SQUARE_EDGES if len(case[0]) < case[1]]
    results = [(cases, _square_edges(student, cases)) for cases in (even_enough, fewer_values)]
    for cases, result in results:
        most = sum(p for _, p in cases)
        least = sum(min(len(v), p) for v, p in cases)
        started = len(_workers(result))
        if least <= started <= most:
            _require_clean_exit(result, "parallel_square")
            continue
        calls(result, "Process.start")  # the words rest on the kit's counts: a faked count fails as tampering
        sizes = ", ".join(f"{len(v)} in {p}" for v, p in cases)
        rounded_up = sum(len(range(0, len(v), max(1, math.ceil(len(v) / p)))) for v, p in cases)
        fail(f"For these calls (values in slices: {sizes}) parallel_square started {started} process(es) in all; "
             f"one per slice is {most}" + (f" ({least} if the processes of empty slices are left out)"
                                           if least != most else "")
             + (". That is what slices of ceil(len(values) / n_processes) values give: 5 values in slices of 2 "
                "need only 3 processes, not 4" if started == rounded_up and cases is even_enough else "")
             + ". Start n_processes processes, one per slice, with bounds = [size * i // n for i in range(n + 1)]: "
               "process i squares range(bounds[i], bounds[i + 1]).")
    values = [rng.uniform(-100, 100) for _ in range(rng.randrange(10, 40))]
    processes = rng.randrange(2, 5)
    result = _tracked_call(student, "parallel_square", values, processes, timeout=60)
    if not _expected_squares(values, result.value):
        fail(_square_mismatch(values, processes, result.value, result, student.path))
    started = len(_workers(result))
    if started != processes:
        calls(result, "Process.start")  # the words rest on the kit's counts: a faked count fails as tampering
        fail(f"parallel_square(<{len(values)} values>, {processes}) started {started} process(es) for "
             f"n_processes={processes}; start one per slice.")
    _require_clean_exit(result, "parallel_square")
    judge_races([RaceRun(0, 0, result)], student.path,
          "Give each process its own slice of indices: no two processes may write the same element.")
