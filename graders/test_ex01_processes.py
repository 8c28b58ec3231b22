"""Grader for exercise 1: Process, start/join, exit codes, and a Process subclass.

Inputs are random per run (seeded, the seed is in the report), so a
hard-coded answer fails. The evidence comes from grader tasks whose runs the
supervisor witnesses: which process ran them, under which parent, and when
(``task_records``; records forged from inside fail the check as tampering).
"""
from __future__ import annotations

import pytest

from mpgrade import (
    Exercise, calls, check, element_text, fail, first_difference, require_untampered, short, task,
    task_records, worker_error,
)

EXERCISE = Exercise(
    title="Process, start/join, exit codes, and a Process subclass",
    points=10,
    you_write="`run_in_processes`, `SquareWorker`",
    goals="create, `start()` and `join()` processes; start all before joining any; exit codes; subclass `Process` and override `run()`",
)


SLEEP_S = 1.5
"""How long each concurrent task sleeps: far longer than starting a process, even under spawn."""


def _runs_missing(result, n: int, seen: int) -> str:
    """Why the kit saw ``seen`` of ``n`` task runs finish: the processes started and joined, in words."""
    started, joined = calls(result, "Process.start"), calls(result, "Process.join")
    require_untampered(result, "processes")
    alive = len(result.live_children)
    if started == n and joined < n:
        return (f"run_in_processes started {n} processes but called join() {joined} time(s), so it returned "
                f"before they had finished: the kit saw {seen} of them finish"
                + (f", and {alive} were still running when it returned" if alive else "")
                + ". Call join() on every process (in a second loop, after starting them all) before returning.")
    if started != n:
        return (f"run_in_processes started {started} process(es) for {n} argument tuples, and the function "
                f"given to it finished {seen} time(s). Start exactly one Process(target=func, args=args) per "
                "tuple in args_list.")
    return (f"run_in_processes started and joined {n} processes, but the function given to it finished only "
            f"{seen} time(s). Each process must run target=func with args=that tuple.")


def _wrapped_args(result, codes: list[int]) -> str:
    """When func was called with something other than the tuples in args_list: what it got, and the fix."""
    got = [r["args"][0] for r in task_records(result, "exit_after")]
    odd = [a for a in got if not isinstance(a, int)]
    if not odd:
        return ""
    return (f"The function given to run_in_processes was called with {short(odd[0])} as its first argument "
            f"where the tuple was ({codes[0]},): the processes got the whole tuple wrapped in another one "
            "(args=(args,) or args=[args]). Pass the tuple itself: Process(target=func, args=args).")


@pytest.mark.points(2)
def test_exit_codes_in_order(student, rng):
    """run_in_processes returns every process's exit code, in order"""
    codes = [rng.randrange(0, 10) for _ in range(rng.randrange(3, 6))]
    args_list = [(code,) for code in codes]
    result = student.call("run_in_processes", task("exit_after"), args_list)
    got = result.value
    check(isinstance(got, list),
          f"run_in_processes(exit_after, {short(args_list)}) returned {short(got)}, which is not a list. "
          "Return a list with one exit code per process.")
    if got != codes:
        wrapped = _wrapped_args(result, codes)
        if wrapped:
            fail(f"run_in_processes(exit_after, {short(args_list)}) returned {short(got)}. {wrapped}")
        index = first_difference(got, codes)
        where = element_text(got, codes, index, "exit code") if index is not None else ""
        if any(code is None for code in got):
            joined = calls(result, "Process.join")
            fail(f"run_in_processes(exit_after, {short(args_list)}) returned {short(got)}: {where}. exitcode is "
                 "None while a process is still running"
                 + (", and run_in_processes never calls join()" if joined == 0 else
                    f" (join() was called {joined} time(s) for {len(codes)} processes)")
                 + ". Return [p.exitcode for p in processes] after joining them, in the order of args_list.")
        runs = sorted(task_records(result, "exit_after"), key=lambda r: r["start"])
        if sorted(r["args"][0] for r in runs) == sorted(codes):
            fail(f"run_in_processes(exit_after, {short(args_list)}) returned {short(got)}: {where}; the processes "
                 f"exited with codes {codes}. Return [p.exitcode for p in processes] after joining them, in the "
                 "same order as args_list.")
        fail(f"run_in_processes(exit_after, {short(args_list)}) returned {short(got)}: {where}. The kit saw "
             f"exit_after run {len(runs)} time(s) for {len(codes)} tuples, so the processes exited with codes "
             f"{[r['args'][0] for r in runs]}, if any: the returned codes did not come from processes running func. "
             "Start one Process(target=func, args=args) per tuple, join them all, and return their exitcode "
             "values in the order of args_list.")
    wrapped = _wrapped_args(result, codes)
    if wrapped:
        fail(f"run_in_processes(exit_after, {short(args_list)}) returned the right codes, but: {wrapped}")
    ran = sorted(r["args"][0] for r in task_records(result, "exit_after"))
    check(ran == sorted(codes),
          f"run_in_processes(exit_after, {short(args_list)}) returned the right codes, but the kit saw "
          f"exit_after run for {short(ran)}. The codes must come from processes that ran func: start one "
          "Process(target=func, args=args) per tuple, join it, and return its exitcode.")


@pytest.mark.points(2)
def test_each_call_in_its_own_process(student, rng):
    """each call runs in a child process of its own, and none is left running"""
    n = rng.randrange(3, 6)
    result = student.call("run_in_processes", task("exit_after"), [(0,)] * n)
    records = task_records(result)
    pids = {r["pid"] for r in records}
    if len(records) != n:
        fail(_runs_missing(result, n, len(records)))
    check(result.runner_pid not in pids,
          "The function ran in the calling process itself, not in a child process. "
          "Create a multiprocessing.Process(target=func, args=args) and call start() on it.")
    check(len(pids) == n,
          f"{n} calls ran in only {len(pids)} distinct processes. Each tuple needs a process of its own.")
    require_untampered(result, "processes")
    check(not result.live_children,
          f"{len(result.live_children)} process(es) were still running when run_in_processes returned. "
          "join() every process before returning.")


@pytest.mark.points(2)
def test_processes_run_at_the_same_time(student):
    """the processes run at the same time: none starts only after another has ended"""
    n = 3
    result = student.call("run_in_processes", task("exit_after"), [(0, SLEEP_S)] * n, timeout=30)
    records = sorted(task_records(result), key=lambda r: r["start"])
    if len(records) != n:
        fail(_runs_missing(result, n, len(records)))
    serial = [later["start"] >= earlier["end"] for earlier, later in zip(records, records[1:])]
    if any(serial):
        starts = ", ".join(f"{r['start'] - records[0]['start']:.1f} s" for r in records)
        fail(f"The processes ran one after another, not at the same time: each sleeps {SLEEP_S} s "
             f"and they started at {starts}. Start every process first, in one loop, and join them "
             "in a second loop; a join() right after each start() waits for that process to finish "
             "before the next one starts.")


@pytest.mark.points(1)
def test_square_worker_is_a_process(student, rng):
    """SquareWorker is a Process subclass that runs in a process of its own"""
    numbers = [rng.randrange(-50, 50) for _ in range(3)]
    evidence = student.drive("process_subclass_with_queue", "SquareWorker", [numbers], len(numbers),
                             what=f"SquareWorker({numbers}, results_queue) with start() and join()").value
    check(evidence["is_process_subclass"],
          "SquareWorker must be a subclass of multiprocessing.Process: class SquareWorker(multiprocessing.Process).")
    check(evidence["overrides_run"],
          "SquareWorker does not override run(). Define run(self) with the work the process does.")
    check(evidence["worker_pid"] != evidence["caller_pid"],
          "SquareWorker's work did not run in a separate process.")


@pytest.mark.points(2)
def test_square_worker_puts_squares(student, rng):
    """SquareWorker puts (n, n * n) on the queue for each number, in order"""
    numbers = [rng.randrange(-1000, 1000) for _ in range(rng.randrange(4, 9))]
    result = student.drive("process_subclass_with_queue", "SquareWorker", [numbers], len(numbers),
                           what=f"SquareWorker({short(numbers)}, results_queue)")
    evidence = result.value
    expected = [(n, n * n) for n in numbers]
    got = evidence["items"]
    if got != expected:
        problem = worker_error(result, student.path) if evidence["exitcode"] else ""
        if problem:  # the crash is the cause: name it first, with the line
            fail(f"SquareWorker({short(numbers)}, results) put {len(got)} of {len(expected)} items on the queue "
                 f"before its process failed (exit code {evidence['exitcode']}).\n{problem}")
        index = first_difference(got, expected)
        fail(f"SquareWorker({short(numbers)}, results) put {short(got)} on the queue; expected {short(expected)}. "
             f"The first difference: {element_text(got, expected, index, 'item')}. In run(), put the tuple "
             "(n, n * n) on self.results "
             "for each n in the numbers given to __init__, in order."
             + (f"\nIts process exited with code {evidence['exitcode']}." if evidence["exitcode"] else ""))
    if evidence["worker_pid"] is None:
        fail("SquareWorker put the right items on the queue, but no process was ever started (its pid is None): "
             + ("the work ran in the calling process, in the start() your class defines. "
                if not evidence["overrides_run"] else "")
             + "A Process subclass overrides run(), and the inherited start() runs it in a new process.")
    check(evidence["exitcode"] == 0,
          f"SquareWorker's process exited with code {evidence['exitcode']} instead of 0. "
          "run() should return normally after putting the results."
          + ("\n" + worker_error(result, student.path) if worker_error(result, student.path) else ""))
