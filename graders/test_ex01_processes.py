"""Grader for exercise 1: Process, start/join, exit codes, and a Process subclass.

Inputs are random per run (seeded, the seed is in the report), so a
hard-coded answer fails. The evidence comes from grader tasks that record
which process ran them and when.
"""
from __future__ import annotations

import pytest

from mpgrade import Exercise, check, fail, short, task, worker_error

EXERCISE = Exercise(
    title="Process, start/join, exit codes, and a Process subclass",
    points=10,
    you_write="`run_in_processes`, `SquareWorker`",
    goals="create, `start()` and `join()` processes; start all before joining any; exit codes; subclass `Process` and override `run()`",
)


SLEEP_S = 1.5
"""How long each concurrent task sleeps: far longer than starting a process, even under spawn."""


@pytest.mark.points(2)
def test_exit_codes_in_order(student, rng):
    """run_in_processes returns every process's exit code, in order"""
    codes = [rng.randrange(0, 10) for _ in range(rng.randrange(3, 6))]
    args_list = [(code,) for code in codes]
    got = student.call("run_in_processes", task("exit_after"), args_list).value
    check(isinstance(got, list),
          f"run_in_processes(exit_after, {short(args_list)}) returned {short(got)}, which is not a list. "
          "Return a list with one exit code per process.")
    check(got == codes,
          f"run_in_processes(exit_after, {short(args_list)}) returned {short(got)}; the processes "
          f"exited with codes {codes}. Return [p.exitcode for p in processes] after joining them, "
          "in the same order as args_list.")


@pytest.mark.points(2)
def test_each_call_in_its_own_process(student, rng):
    """each call runs in a child process of its own, and none is left running"""
    n = rng.randrange(3, 6)
    result = student.call("run_in_processes", task("exit_after"), [(0,)] * n)
    records = result.evidence
    pids = {r["pid"] for r in records}
    check(len(records) == n,
          f"The function given to run_in_processes ran {len(records)} times for {n} argument tuples. "
          "Start exactly one process per tuple in args_list, with target=func and args=that tuple.")
    check(result.runner_pid not in pids,
          "The function ran in the calling process itself, not in a child process. "
          "Create a multiprocessing.Process(target=func, args=args) and call start() on it.")
    check(len(pids) == n,
          f"{n} calls ran in only {len(pids)} distinct processes. Each tuple needs a process of its own.")
    check(not result.live_children,
          f"{len(result.live_children)} process(es) were still running when run_in_processes returned. "
          "join() every process before returning.")


@pytest.mark.points(2)
def test_processes_run_at_the_same_time(student):
    """all processes are started before any is joined, so they run at the same time"""
    n = 3
    result = student.call("run_in_processes", task("exit_after"), [(0, SLEEP_S)] * n, timeout=30)
    records = sorted(result.evidence, key=lambda r: r["start"])
    if len(records) != n:
        fail(f"Expected {n} processes to run, saw {len(records)}. Start one process per tuple in args_list.")
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
        text = (f"SquareWorker({short(numbers)}, results) put {short(got)} on the queue; "
                f"expected {short(expected)}. In run(), put the tuple (n, n * n) on self.results for "
                "each n in the numbers given to __init__, in order.")
        if evidence["exitcode"]:
            text += f"\nIts process exited with code {evidence['exitcode']}."
        problem = worker_error(result, student.path)
        if problem:
            text += "\n" + problem
        fail(text)
    check(evidence["exitcode"] == 0,
          f"SquareWorker's process exited with code {evidence['exitcode']} instead of 0. "
          "run() should return normally after putting the results."
          + ("\n" + worker_error(result, student.path) if worker_error(result, student.path) else ""))
