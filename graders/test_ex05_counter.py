"""Grader for exercise 5: a shared Value and its lock.

The points rest on what happened: the value parallel_count returns (for one process, for 0 and 1 increments,
and under contention), the processes the kit saw start and still running at the end, how they ended, and the
reads and writes of the counter the kit recorded with and without its lock. Counts of API calls only choose
the words.
"""
from __future__ import annotations

import dataclasses

import pytest

from mpgrade import (
    Exercise, RaceRun, calls, check, child_crash, fail, find_races, first_unlocked_place, judge_races, require_clean_exit,
    started_processes, still_running, worker_error,
)
from mpgrade import describe_raised

EXERCISE = Exercise(
    title="a shared Value and its lock",
    points=10,
    you_write="the lock in `increment`, `parallel_count`",
    goals="`Value`; why `+= 1` loses updates; `with counter.get_lock():`",
)

EDGE_COUNTS = [(1, 1), (1, 0), (4, 1), (3, 0)]
"""(n_processes, n_increments) every grading runs: one process, no increment, one increment each."""
LONG_INCREMENTS = 20_000
"""Increments per process in the clean-exit check: long enough that a process nobody joined is still running
when the function returns."""


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


def _calls_text(cases: list[tuple[int, int]]) -> str:
    return ", ".join(f"parallel_count({p}, {n})" for p, n in cases)


def _crash(result, student) -> str:
    """A child that failed: from its exit code (if it was joined) or the traceback it printed."""
    return child_crash(result, student.path) or worker_error(result, student.path)


def _process_count_problem(result, cases: list[tuple[int, int]], strict: bool = False) -> str:
    """Words for a number of started processes that is not one per n_processes; "" if it is. A call with no
    increments to do may start none, unless ``strict`` (the words for a wrong value, which rest on the value)."""
    workers = len(_workers(result))
    least, most = sum(p for p, n in cases if n and not strict), sum(p for p, _ in cases)
    if (workers == most) if strict else (least <= workers <= most):
        return ""
    calls(result, "Process.start")  # the words rest on the kit's counts: a faked count fails as tampering
    asked = "+".join(str(p) for p, _ in cases)
    return (f"It started {workers} process(es) for n_processes={asked} in all ({_calls_text(cases)}), not {most}: "
            "start one Process per n_processes, each running increment(counter, n_increments).")


def _unjoined_text(result, started: int) -> str:
    """Words for a call that read the counter before its processes had finished; "" if nothing shows that."""
    joined = calls(result, "Process.join")
    alive = len(_still_running(result))
    if not alive and joined >= started:
        return ""
    still = f"; {alive} {'was' if alive == 1 else 'were'} still running when it returned" if alive else ""
    return (f"It read counter.value before its processes had finished: it started {started} process(es) and called "
            f"join() {joined} time(s){still}. join() every process before reading counter.value.")


def _check_values(student, result, cases, outcomes) -> None:
    """Fail on the first case that raised or returned a value other than n_processes * n_increments."""
    __tracebackhide__ = True
    for (processes, increments), outcome in zip(cases, outcomes):
        call = f"parallel_count({processes}, {increments})"
        if "raised" in outcome:
            crash = _crash(result, student)
            fail(describe_raised(call, outcome["raised"], student.path) + (f"\n{crash}" if crash else ""))
        got = outcome.get("value")
        if not isinstance(got, int) or isinstance(got, bool):
            kind = type(got).__name__
            fail(f"{call} returned {got!r}" + (f", a {kind}, not an int" if got is not None else "")
                 + ". Return counter.value (the number), after joining the processes.")
        if got == processes * increments:
            continue
        text = f"{call} returned {got}; expected {processes * increments}."
        # Not joined first: a process started after its caller returned cannot open the counter, and may die
        # before the kit could see it start.
        why = _unjoined_text(result, _own_processes(result)) or _process_count_problem(result, cases, strict=True)
        if why:
            fail(f"{text} {why}")
        crash = _crash(result, student)
        if crash:
            fail(f"{text}\n{crash}\nA process that fails stops before its work is done.")
        fail(f"{text} Each of the n_processes processes adds n_increments to the one shared counter: hand every "
             "process the Value itself, and return counter.value after joining them all.")


def _only_lost_updates(student, result, cases, outcomes) -> bool:
    """Some case came back short, every one returned an int no larger than it should, the processes were started
    one per n_processes, joined, and none crashed: what lost updates leave, and nothing else."""
    values = [o.get("value") for o in outcomes]
    if any("raised" in o for o in outcomes) or any(not isinstance(v, int) or isinstance(v, bool) for v in values):
        return False
    expected = [p * n for p, n in cases]
    if values == expected or any(v > e for v, e in zip(values, expected)):
        return False
    return not (_unjoined_text(result, _own_processes(result)) or _process_count_problem(result, cases, strict=True)
                or _crash(result, student))


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
    """parallel_count returns n_processes * n_increments (1 process, 0 or 1 increments, contention): no update is lost"""
    edges, outcomes = student.each("parallel_count", EDGE_COUNTS, timeout=60)
    runs = []
    short = _only_lost_updates(student, edges, EDGE_COUNTS, outcomes)
    if not short:
        _check_values(student, edges, EDGE_COUNTS, outcomes)
    for _ in range(3):
        processes, increments = rng.randrange(2, 4), rng.randrange(200, 600)
        result = student.call("parallel_count", processes, increments, timeout=60, races=True)
        got = result.value
        if not isinstance(got, int) or isinstance(got, bool):
            kind = type(got).__name__
            fail(f"parallel_count({processes}, {increments}) returned {got!r}"
                 + (f", a {kind}, not an int" if got is not None else "")
                 + ". Return counter.value (the number), after joining the processes.")
        started = len(_workers(result))
        if got != processes * increments and started != processes:
            calls(result, "Process.start")  # the words rest on the kit's counts: a faked count fails as tampering
            fail(f"parallel_count({processes}, {increments}) returned {got}; expected {processes * increments}. It "
                 f"started {started} process(es) for n_processes={processes}: start one Process per n_processes, "
                 "each running increment(counter, n_increments).")
        runs.append(RaceRun(processes * increments, got, result))
    if short:
        if not any(find_races(run.result) for run in runs):  # short without a race recorded: not lost updates
            _check_values(student, edges, EDGE_COUNTS, outcomes)
        # Lost updates: the race runs name the racy line; the edge cases count as evidence too.
        runs.append(RaceRun(sum(p * n for p, n in EDGE_COUNTS), sum(o["value"] for o in outcomes), edges))
    judge_races(runs, student.path, "Hold the counter's lock around the whole `counter.value += 1` "
                              "(with counter.get_lock(): ...), in every process.")


@pytest.mark.points(3)
def test_parallel_count_runs_processes(student, rng):
    """parallel_count starts n_processes processes (1 to 4), none fails, and none is still running when it returns"""
    cases = [(1, 0), (1, 1), (4, 1), (rng.randrange(2, 5), LONG_INCREMENTS)]
    result, outcomes = student.each("parallel_count", cases, timeout=60)
    raised = next((((p, n), o["raised"]) for (p, n), o in zip(cases, outcomes) if "raised" in o), None)
    if raised:
        (p, n), error = raised
        crash = _crash(result, student)
        fail(describe_raised(f"parallel_count({p}, {n})", error, student.path) + (f"\n{crash}" if crash else ""))
    if _still_running(result):  # first: a process started after its caller returned cannot open the Value
        p, n = cases[-1]
        fail(f"parallel_count({p}, {n}) returned while its processes were still running. "
             + _unjoined_text(result, _own_processes(result)))
    problem = _process_count_problem(result, cases)
    if problem:
        fail(problem)
    crash = _crash(result, student)
    if crash:
        fail(f"{_calls_text(cases)} returned, but a process did not end cleanly.\n{crash}")
    _require_clean_exit(result, "parallel_count")
