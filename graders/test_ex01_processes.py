"""Grader for exercise 1: Process, start/join, exit codes, and a Process subclass.

Inputs are random per run (seeded, the seed is in the report), so a
hard-coded answer fails; each check also runs fixed edge cases (one tuple, an
empty ``args_list``, processes that end in the reverse order of their start)
in one more sandboxed call, so a grade never depends on the seed. The
evidence comes from grader tasks whose runs the supervisor witnesses: which
process ran them, under which parent, and when (``task_records``; records
forged from inside fail the check as tampering), and from the processes the
witness saw start and still alive at the end. API counts only choose words.
"""
from __future__ import annotations

import ast
import re

import pytest

from mpgrade import (
    CheckFailed, Exercise, GradingError, calls, check, element_text, fail, first_difference, require_untampered,
    short, started_processes, still_running, task, task_records, worker_error,
)

EXERCISE = Exercise(
    title="Process, start/join, exit codes, and a Process subclass",
    points=10,
    you_write="`run_in_processes`, `SquareWorker`",
    goals="create, `start()` and `join()` processes; start all before joining any; exit codes; subclass `Process` and override `run()`",
)


SLEEP_S = 1.5
"""How long each concurrent task sleeps: far longer than starting a process, even under spawn."""
FIRST_ENDS_LAST_S = 1.0
"""In the edge case of two processes, how long the first sleeps while the second ends at once: joining only
the last process started (or reading exit codes when it has ended) leaves the first running, whatever the load."""


def _still_running(result) -> int:
    """How many processes the call started were still running when it returned (multiprocessing's helpers left
    out), as the witness saw them (a forged report fails as tampering)."""
    require_untampered(result, "processes")
    return len(still_running(result))


def _call(args_list: list) -> str:
    return f"run_in_processes(exit_after, {short(args_list)})"


def _edge_cases(student, function: str, cases: list[tuple], why: list[str], timeout: float | None = None):
    """``student.each`` on a check's fixed edge cases; a hang names the case it stopped in (the last case mark)."""
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
        args = ", ".join(short(a) for a in cases[index])
        raise CheckFailed(f"On the edge case {function}({args}) ({why[index]}):\n" + "\n".join(lines)) from None


def _raised_text(call: str, raised: dict) -> str:
    where = raised.get("where") or {}
    text = f"{call} raised {raised.get('type')}: {raised.get('message')}".rstrip(": ")
    if where:
        text += f"\n  at {where.get('file')}:{where.get('line')}" + (f": {where['source']}" if where.get("source")
                                                                     else "")
    return text


def _join_words(result, n: int, alive: int) -> str:
    """How run_in_processes joined its ``n`` processes, ``alive`` of which were still running when it returned, in
    words (the counts of join() calls only choose the words: the processes alive at the end are the evidence)."""
    joined = calls(result, "Process.join")
    were = "was" if alive == 1 else "were"
    still = f", and {alive} {were} still running when it returned" if alive else ""
    if joined == 0:
        return f"run_in_processes called join() 0 time(s) for its {n} processes (it never calls join()){still}"
    if joined >= n and alive:
        return (f"join() was called {joined} time(s) for {n} processes, yet {alive} {were} still running when "
                "run_in_processes returned: some process was never joined (is join() called on each process "
                f"object, not {joined} times on the same one?)")
    return f"run_in_processes called join() {joined} time(s) for {n} processes{still}"


def _runs_missing(result, n: int, seen: int) -> str:
    """Why the kit saw ``seen`` of ``n`` task runs finish: processes left running, or not started, in words."""
    require_untampered(result, "processes")
    started, joined = calls(result, "Process.start"), calls(result, "Process.join")
    alive = _still_running(result)
    if alive or (started == n and joined < n):
        return (f"{_join_words(result, n, alive)}. It returned before they had finished: the kit saw {seen} of "
                f"{n} finish. Call join() on every process (in a second loop, after starting them all) before "
                "returning.")
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


def _joins_in_source(path) -> dict:
    """Where run_in_processes reads ``exitcode`` and calls ``join()`` (the file parsed, never run), for words only:
    the first line of each, and a join loop whose ``join()`` is on another name than its loop variable."""
    found: dict = {"exitcode": None, "join": None, "stale": None}
    try:
        tree = ast.parse(path.read_text(encoding="utf-8", errors="replace"))
    except (OSError, SyntaxError, ValueError):
        return found
    function = next((node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)
                     and node.name == "run_in_processes"), None)
    if function is None:
        return found
    for node in ast.walk(function):
        if isinstance(node, ast.Attribute) and node.attr == "exitcode":
            found["exitcode"] = min(found["exitcode"] or node.lineno, node.lineno)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "join" \
                and not isinstance(node.func.value, ast.Constant):
            found["join"] = min(found["join"] or node.lineno, node.lineno)
        if isinstance(node, ast.For) and isinstance(node.target, ast.Name):
            for inner in ast.walk(node):
                if isinstance(inner, ast.Call) and isinstance(inner.func, ast.Attribute) \
                        and inner.func.attr == "join" and isinstance(inner.func.value, ast.Name) \
                        and inner.func.value.id != node.target.id and found["stale"] is None:
                    found["stale"] = (inner.lineno, inner.func.value.id, node.target.id)
    return found


def _none_codes(result, path, args_list: list, got: list, where: str, started: int | None = None) -> str:
    """Feedback for exit codes that are None: read while a process was still running. The processes still running
    at the return (or no join() at all) show they were not joined; else the file shows where exitcode is read.
    ``started``: the processes the whole sandboxed call started (its edge cases together), when not just these."""
    n = len(args_list) if started is None else started
    alive = _still_running(result)
    text = (f"{_call(args_list)} returned {short(got)}: {where}. exitcode is None while a process is still "
            "running")
    fix = "Return [p.exitcode for p in processes] after joining them all, in the order of args_list."
    source = _joins_in_source(path)
    stale = source["stale"]
    if stale:
        fix = (f"{path.name}:{stale[0]} calls {stale[1]}.join() in a loop over `{stale[2]}`: it joins the same "
               f"process every time. Call {stale[2]}.join() on each process, and return "
               "[p.exitcode for p in processes] after joining them all.")
    if alive or calls(result, "Process.join") == 0:
        return text + f". {_join_words(result, n, alive)}. {fix}"
    if source["exitcode"] and source["join"] and source["exitcode"] < source["join"]:
        return (text + f". No process was left running when run_in_processes returned, so it does join them, but "
                f"it reads exitcode ({path.name}:{source['exitcode']}) before it joins them ({path.name}:"
                f"{source['join']}): it read exitcode before join() had waited for them to end. Return "
                "[p.exitcode for p in processes] after joining them all, in the order of args_list.")
    return (text + ". No process was left running when run_in_processes returned, yet one was still running "
            "when its exitcode was read: was join() called on each process object before its exitcode was read? "
            + fix)


EXIT_EDGES_WHY = ["a single tuple", "an empty args_list",
                  f"two processes, the first sleeping {FIRST_ENDS_LAST_S:g} s and the second ending at once"]


@pytest.mark.points(2)
def test_exit_codes_in_order(student, rng):
    """run_in_processes returns every process's exit code, in order (also for one tuple, none, and processes
    that end in the reverse order of their start)"""
    codes = [rng.randrange(0, 10) for _ in range(rng.randrange(3, 6))]
    args_list = [(code,) for code in codes]
    result = student.call("run_in_processes", task("exit_after"), args_list)
    got = result.value
    check(isinstance(got, list),
          f"{_call(args_list)} returned {short(got)}, which is not a list. "
          "Return a list with one exit code per process.")
    if got != codes:
        wrapped = _wrapped_args(result, codes)
        if wrapped:
            fail(f"{_call(args_list)} returned {short(got)}. {wrapped}")
        index = first_difference(got, codes)
        where = element_text(got, codes, index, "exit code") if index is not None else ""
        if any(code is None for code in got):
            fail(_none_codes(result, student.path, args_list, got, where))
        runs = sorted(task_records(result, "exit_after"), key=lambda r: r["start"])
        if sorted(r["args"][0] for r in runs) == sorted(codes):
            fail(f"{_call(args_list)} returned {short(got)}: {where}; the processes "
                 f"exited with codes {codes}. Return [p.exitcode for p in processes] after joining them, in the "
                 "same order as args_list.")
        fail(f"{_call(args_list)} returned {short(got)}: {where}. The kit saw "
             f"exit_after run {len(runs)} time(s) for {len(codes)} tuples, so the processes exited with codes "
             f"{[r['args'][0] for r in runs]}, if any: the returned codes did not come from processes running func. "
             "Start one Process(target=func, args=args) per tuple, join them all, and return their exitcode "
             "values in the order of args_list.")
    wrapped = _wrapped_args(result, codes)
    if wrapped:
        fail(f"{_call(args_list)} returned the right codes, but: {wrapped}")
    ran = sorted(r["args"][0] for r in task_records(result, "exit_after"))
    check(ran == sorted(codes),
          f"{_call(args_list)} returned the right codes, but the kit saw "
          f"exit_after run for {short(ran)}. The codes must come from processes that ran func: start one "
          "Process(target=func, args=args) per tuple, join it, and return its exitcode.")

    edges = [[(7,)], [], [(3, FIRST_ENDS_LAST_S), (5, 0.0)]]
    result, outcomes = _edge_cases(student, "run_in_processes", [(task("exit_after"), e) for e in edges],
                                   EXIT_EDGES_WHY, timeout=30)
    for args_list, outcome, why in zip(edges, outcomes, EXIT_EDGES_WHY):
        expected = [args[0] for args in args_list]
        if "raised" in outcome:
            fail(f"On the edge case {_call(args_list)} ({why}): " + _raised_text(_call(args_list), outcome["raised"])
                 + "\nIt must work for any number of tuples: " + ("return [] when there are none."
                                                                  if not args_list else "one process per tuple."))
        got = outcome.get("value")
        if got == expected:
            continue
        if not isinstance(got, list):
            fail(f"On the edge case {_call(args_list)} ({why}) it returned {short(got)}; expected {expected}. "
                 "Return a list with one exit code per tuple" + (": [] for none." if not args_list else "."))
        index = first_difference(got, expected)
        where = element_text(got, expected, index, "exit code") if index is not None else ""
        if any(code is None for code in got):
            fail(f"On the edge case ({why}): " + _none_codes(result, student.path, args_list, got, where,
                                                             sum(len(e) for e in edges)))
        fail(f"On the edge case {_call(args_list)} ({why}) it returned {short(got)}; expected {expected}: {where}. "
             "Start one Process(target=func, args=args) per tuple, join them all, and return their exitcode values "
             "in the order of args_list.")


@pytest.mark.points(2)
def test_each_call_in_its_own_process(student, rng):
    """each call runs in a child process of its own, and none is left running (also for one tuple, none, and
    processes that end in the reverse order of their start)"""
    n = rng.randrange(3, 6)
    result = student.call("run_in_processes", task("exit_after"), [(0,)] * n)
    _own_processes(result, n, "")
    edges = [[(0,)], [], [(0, FIRST_ENDS_LAST_S), (0, 0.0)]]
    result, _ = _edge_cases(student, "run_in_processes", [(task("exit_after"), e) for e in edges], EXIT_EDGES_WHY,
                            timeout=30)
    _own_processes(result, sum(len(e) for e in edges),
                   f"On its edge cases ({'; '.join(f'{_call(e)}: {why}' for e, why in zip(edges, EXIT_EDGES_WHY))}): ")


def _own_processes(result, n: int, prefix: str) -> None:
    """Every one of the ``n`` tuples ran in a child process of its own, and none was left running."""
    __tracebackhide__ = True
    records = task_records(result)
    pids = {r["pid"] for r in records}
    if len(records) != n:
        fail(prefix + _runs_missing(result, n, len(records)))
    check(result.runner_pid not in pids,
          prefix + "The function ran in the calling process itself, not in a child process. "
          "Create a multiprocessing.Process(target=func, args=args) and call start() on it.")
    check(len(pids) == n,
          prefix + f"{n} calls ran in only {len(pids)} distinct processes. Each tuple needs a process of its own.")
    alive = _still_running(result)
    if alive:
        fail(prefix + f"{_join_words(result, n, alive)}. join() every process before returning.")


@pytest.mark.points(2)
def test_processes_run_at_the_same_time(student):
    """the processes run at the same time: none starts only after another has ended"""
    n = 3
    result = student.call("run_in_processes", task("exit_after"), [(0, SLEEP_S)] * n, timeout=30)
    records = sorted(task_records(result), key=lambda r: r["start"])
    if records and any(list(r.get("args") or []) != [0, SLEEP_S] for r in records):
        # The runs were not handed the tuples given (args=(args,) wraps them): their 1.5 s sleeps never happened, so
        # whether such short runs overlapped is timing, not evidence. test_exit_codes_in_order names the mistake
        # (one mistake, one deduction).
        return
    if len(records) != n:
        if _still_running(result) and _witnessed_overlap(result, n):
            # Returned before joining them all: test_exit_codes_in_order and test_each_call_in_its_own_process
            # deduct for that (one mistake, one deduction). The witness saw them run at the same time.
            return
        fail(_runs_missing(result, n, len(records)))
    serial = [later["start"] >= earlier["end"] for earlier, later in zip(records, records[1:])]
    if any(serial):
        starts = ", ".join(f"{r['start'] - records[0]['start']:.1f} s" for r in records)
        fail(f"The processes ran one after another, not at the same time: each sleeps {SLEEP_S} s "
             f"and they started at {starts}. Start every process first, in one loop, and join them "
             "in a second loop; a join() right after each start() waits for that process to finish "
             "before the next one starts.")


def _witnessed_overlap(result, n: int) -> bool:
    """The witness saw ``n`` processes the call started, each starting before the one before it had ended
    (one still running at the end has not ended)."""
    seen = sorted(started_processes(result), key=lambda p: p["start"])
    if len(seen) != n:
        return False
    ends = [float("inf") if p.get("alive_at_end") else p["last_seen"] for p in seen]
    return all(later["start"] < end for later, end in zip(seen[1:], ends))


def _square_worker(student, numbers: list, edge: str = ""):
    what = f"SquareWorker({short(numbers)}, results_queue) with start() and join()"
    return student.drive("process_subclass_with_queue", "SquareWorker", [numbers], len(numbers),
                         what=what + (f" (an edge case: {edge})" if edge else ""))


@pytest.mark.points(1)
def test_square_worker_is_a_process(student, rng):
    """SquareWorker is a Process subclass that runs in a process of its own (also with no numbers)"""
    numbers = [rng.randrange(-50, 50) for _ in range(3)]
    for case, edge in ((numbers, ""), ([], "no numbers")):
        evidence = _square_worker(student, case, edge).value
        check(evidence["is_process_subclass"],
              "SquareWorker must be a subclass of multiprocessing.Process: "
              "class SquareWorker(multiprocessing.Process).")
        check(evidence["overrides_run"],
              "SquareWorker does not override run(). Define run(self) with the work the process does.")
        check(evidence["worker_pid"] is not None and evidence["worker_pid"] != evidence["caller_pid"],
              f"SquareWorker({short(case)}, results)'s work did not run in a separate process"
              + (" (its pid is None: no process was ever started)" if evidence["worker_pid"] is None else "")
              + ". A Process subclass overrides run(), and the inherited start() runs it in a new process.")


@pytest.mark.points(2)
def test_square_worker_puts_squares(student, rng):
    """SquareWorker puts (n, n * n) on the queue for each number, in order (also for a single 0)"""
    numbers = [rng.randrange(-1000, 1000) for _ in range(rng.randrange(4, 9))]
    for case, edge in ((numbers, ""), ([0], "a single number, 0")):
        _check_squares(student, case, edge)


def _check_squares(student, numbers: list, edge: str) -> None:
    __tracebackhide__ = True
    result = _square_worker(student, numbers, edge)
    evidence = result.value
    expected = [(n, n * n) for n in numbers]
    got = evidence["items"]
    call = f"SquareWorker({short(numbers)}, results)" + (f" (an edge case: {edge})" if edge else "")
    if got != expected:
        problem = worker_error(result, student.path) if evidence["exitcode"] else ""
        if problem:  # the crash is the cause: name it first, with the line
            fail(f"{call} put {len(got)} of {len(expected)} items on the queue "
                 f"before its process failed (exit code {evidence['exitcode']}).\n{problem}")
        index = first_difference(got, expected)
        fail(f"{call} put {short(got)} on the queue; expected {short(expected)}. "
             f"The first difference: {element_text(got, expected, index, 'item')}. In run(), put the tuple "
             "(n, n * n) on self.results "
             "for each n in the numbers given to __init__, in order."
             + (f"\nIts process exited with code {evidence['exitcode']}." if evidence["exitcode"] else ""))
    if evidence["worker_pid"] is None:
        fail(f"{call} put the right items on the queue, but no process was ever started (its pid is None): "
             + ("the work ran in the calling process, in the start() your class defines. "
                if not evidence["overrides_run"] else "")
             + "A Process subclass overrides run(), and the inherited start() runs it in a new process.")
    check(evidence["exitcode"] == 0,
          f"{call}: its process exited with code {evidence['exitcode']} instead of 0. "
          "run() should return normally after putting the results."
          + ("\n" + worker_error(result, student.path) if worker_error(result, student.path) else ""))
