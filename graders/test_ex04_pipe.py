"""Grader for exercise 4: a child process served over a Pipe.

The first three checks call ``square_via_pipe`` on fixed inputs (no numbers, one number, 0 and negatives) and
random ones, all in one sandbox each (``student.each``); each of them has inputs with a 0, after one without,
so a child that takes 0 for the stop message (``if not n:``) fails every time, with words that say so. The
points rest on what happened: the values returned, the child processes the kit saw start (and what they ran),
how they ended, what was left running, whether the file joins the child (parsed: a child that ends on its
own may be gone before the return even if nobody waits for it), and whether the parent stops waiting when its
child dies (the effect of closing the child's end of the Pipe in the parent). Counts of API calls only choose
the words.
"""
from __future__ import annotations

import ast
import dataclasses
import re
from pathlib import Path

import pytest

from mpgrade import (
    Exercise, calls, check, child_crash, describe_hang, element_text, hang_waits, fail, first_difference,
    require_clean_exit,
    require_no_crash, short, started_processes, task, worker_error,
)
from mpgrade import describe_raised

ON_NONE = ("It failed on None, the stop message: check for None right after conn.recv(), and stop (break) "
           "before using the value.")

EXERCISE = Exercise(
    title="a child process served over a Pipe",
    points=10,
    you_write="`squarer`, `square_via_pipe`",
    goals="`Pipe` ends, `send`/`recv` in order, a stop message, closing ends",
)

FUNCTION = "square_via_pipe"
CALL_TIMEOUT_S = 12.0
"""Each check's one sandbox: a few calls that each start one child (about a second under spawn)."""
DEAD_CHILD_TIMEOUT_S = 8.0
"""How long the dead-child check waits: the child dies within a second; a parent that still holds the child's
end waits forever."""
UNSQUARABLE = task("square")
"""Sent as one of the numbers by the dead-child check: a function, so ``n * n`` raises TypeError in the child."""
_CASE_MARK = re.compile(r"\[mpgrade\] case (\d+)")
LARGE_TIMEOUT_S = 6.0
"""The large input's limit: ~0.3 s of round trips for one child (a child per number never gets through it)."""
PIPE_FILLING = 20_000
"""Numbers in the large input: their messages overflow a Pipe's buffers both ways (a few thousand do on Linux), so
sending them all before reading a square deadlocks every time; a correct round trip takes ~0.3 s."""


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


def _require_clean_exit(result, what: str) -> None:
    """``require_clean_exit`` on the processes (without the misread helper, see ``_misread_helper``). Not on
    /dev/shm: this exercise makes no SharedMemory block (its Array and Value live in multiprocessing's heap, whose
    files are unlinked at once), and on a machine grading several submissions at once a block another call left
    there has been put down to this one (the witness cannot tell whose a nameless block is)."""
    __tracebackhide__ = True
    processes = [p for p in result.processes if not _misread_helper(result, p)]
    require_clean_exit(dataclasses.replace(result, processes=processes, shm_left=[]), what)


def _random_numbers(rng, low: int, high: int) -> list[int]:
    """Random numbers, always with a 0 and a negative number among them (at random places)."""
    numbers = [rng.randrange(-10_000, 10_000) for _ in range(rng.randrange(low, high))]
    for extra in (0, -rng.randrange(1, 10_000)):
        numbers.insert(rng.randrange(len(numbers) + 1), extra)
    return numbers


def _run_cases(student, cases: list[list], timeout: float) -> tuple[object, list[dict], int | None]:
    """``square_via_pipe(case)`` for every case, in one sandbox (``student.each``): (result, outcomes, hung).

    A call that had to be stopped (a deadlock, or its limit) does not fail the check here: ``hung`` is the index
    of the case it was on (the sandbox marks each case on stderr as it begins), which input hangs being the
    evidence, and outcomes are empty; the result still says which processes were started and who waited where.
    Every other failure (import error, missing function) fails the check with the kit's words.
    """
    __tracebackhide__ = True
    result, outcomes = student.each(FUNCTION, [(case,) for case in cases], timeout=timeout, hang_ok=True)
    if result.hung:
        marks = [int(mark) for mark in _CASE_MARK.findall(result.stderr.text)]
        return result, [], max(marks) if marks else -1
    return result, outcomes, None


def _falsy_stop(path: Path) -> str:
    """``ex04_pipe.py:19: if not n:``: a test in squarer that is true for 0 as well as for None; "" if none."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
        tree = ast.parse(text)
    except (OSError, SyntaxError, ValueError):
        return ""
    lines = text.splitlines()
    for function in ast.walk(tree):
        if not (isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)) and function.name == "squarer"):
            continue
        for node in ast.walk(function):
            if not isinstance(node, (ast.If, ast.While)):
                continue
            test = node.test
            if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
                test = test.operand
            if isinstance(test, (ast.Name, ast.NamedExpr)):
                return f"{path.name}:{node.lineno}: {lines[node.lineno - 1].strip()}\n"
    return ""


def _zero_cause(student, call: str, happened: str, fine: list[list], verb: str = "came out right") -> str:
    """Why an input with a 0 failed while every input without one was fine: 0 taken for the stop message."""
    shown = " and ".join(short(case) for case in fine)
    return (f"{_falsy_stop(student.path)}{call} {happened}, while square_via_pipe({shown}), without a 0, "
            f"{verb}: 0 is taken for the stop message. `if not n:` (or `while n := conn.recv():`) is true for 0 "
            "as well as for None, so squarer stops at 0 without sending its square. Test for the stop message "
            "itself: `if n is None: break`.")


def _zero_free_fine(cases: list[list], good: list[bool]) -> list[list]:
    """The non-empty inputs without a 0 that came out right, if every such input did (else [])."""
    zero_free = [(case, ok) for case, ok in zip(cases, good) if case and 0 not in case]
    return [case for case, _ in zero_free] if zero_free and all(ok for _, ok in zero_free) else []


def _hang_text(student, cases: list[list], hung: int, result) -> str:
    """Feedback for a call that had to be stopped on ``cases[hung]``: which input, who waited where, and what that
    shows."""
    earlier = result.detail.get("earlier", "")
    if result.hang.get("deadlock"):
        happened = f"deadlocked and was stopped after {result.hang.get('after_s', 0):.1f} s"
    else:
        happened = f"did not finish within {result.detail.get('limit_s', 0):g} s and was stopped"
    waits = describe_hang(result, student.path)
    if not 0 <= hung < len(cases):  # no mark came back
        return f"{earlier}square_via_pipe {happened}." + (f"\n{waits}" if waits else "")
    case = cases[hung]
    call = f"square_via_pipe({short(case)})"
    finished = cases[:hung]
    zero_free = [c for c in finished if c and 0 not in c]
    if 0 in case and zero_free and not any(0 in c for c in finished):
        return earlier + _zero_cause(student, call, happened, zero_free, "finished") + (
            " (Here square_via_pipe then waits in recv() for an answer that never comes.)")
    after = f" (after {', '.join(f'square_via_pipe({short(c)})' for c in finished)} had returned)" if finished else ""
    if len(case) > PIPE_FILLING // 2 and _pipe_full(result, student.path):
        return (f"{earlier}{call} {happened}{after}, while every shorter input finished. A pipe holds only so much "
                "(tens of KB) until the other end reads: sending all the numbers before reading any square fills "
                "both directions, and then both processes wait in send() for ever. Send one number, then receive "
                "its square, for each number in turn." + (f"\n{waits}" if waits else ""))
    if waits:
        return f"{earlier}{call} {happened}{after}.\n{waits}"
    return (f"{earlier}{call} {happened}{after}, with every process it started. Look for a child that never ends "
            "(does squarer return when it receives None, and is None sent after the last number, also when there "
            "is none?), a join() on a process that is blocked, or a recv() that waits for a message nobody sends.")


def _pipe_full(result, path: Path) -> bool:
    """A process of the hung call waited in send() on a Pipe (its buffer full: nobody read the other end)."""
    return "send" in hang_waits(result, path)


def _children_in_hung_case(result) -> int:
    """The student's processes started by the case the call hung in (ended, or still waiting when stopped)."""
    hang = result.hang or {}
    return (sum(1 for p in hang.get("ended") or [] if p.get("role") not in ("helper", None))
            + sum(1 for w in hang.get("waits") or [] if w.get("role") not in ("caller", "helper")))


def _outcome_problem(student, cases: list[list], outcomes: list[dict], result) -> str:
    """The first input whose call raised or returned wrong squares, in words; "" if every one came out right."""
    good = [o.get("value") == [n * n for n in case] for case, o in zip(cases, outcomes)]
    fine = _zero_free_fine(cases, good)
    for case, outcome, ok in zip(cases, outcomes, good):
        if ok:
            continue
        call = f"square_via_pipe({short(case)})"
        expected = [n * n for n in case]
        if "raised" in outcome:
            error = outcome["raised"]
            if 0 in case and fine:
                where = error.get("where") or {}
                at = f" at {where.get('file')}:{where.get('line')}" if where else ""
                return _zero_cause(student, call, f"raised {error.get('type')}{at}", fine) + (
                    " (Here recv() in square_via_pipe raised EOFError: the child had ended.)"
                    if error.get("type") == "EOFError" else "")
            crash = child_crash(result, student.path) or worker_error(result, student.path)
            return describe_raised(call, error, student.path) + (f"\n{crash}" if crash else "")
        got = outcome.get("value")
        text = f"{call} returned {short(got)}"
        if isinstance(got, list):
            index = first_difference(got, expected)
            if 0 in case and fine and index is not None and index >= case.index(0):
                return _zero_cause(student, call, f"returned {short(got)}", fine)
            text += f": {element_text(got, expected, index)}" if index is not None else ""
        crash = child_crash(result, student.path)
        if crash:
            return f"{text}; expected {short(expected)}.\n{crash}"
        return f"{text}. Send one number, then receive its square, for each number in turn."
    return ""


@pytest.mark.points(3)
def test_squares_in_order(student, rng):
    """square_via_pipe returns the squares in order: for no numbers, one, 0 and negatives, random ones, and more
    numbers than a pipe holds at once"""
    cases = [[], [7], [3, -2, 0, 5, -11], _random_numbers(rng, 5, 12)]
    result, outcomes, hung = _run_cases(student, cases, CALL_TIMEOUT_S)
    if hung is not None:
        fail(_hang_text(student, cases, hung, result))
    problem = _outcome_problem(student, cases, outcomes, result)
    if problem:
        fail(problem)
    large = [list(range(-PIPE_FILLING // 2, PIPE_FILLING // 2))]
    result, outcomes, hung = _run_cases(student, large, LARGE_TIMEOUT_S)
    if hung is not None:
        if not _pipe_full(result, student.path) and _children_in_hung_case(result) > 2:
            return  # a child per number cannot get through 20,000 numbers in time: test_one_child's deduction
        fail(_hang_text(student, cases + large, len(cases), result))
    problem = _outcome_problem(student, large, outcomes, result)
    if problem:
        fail(problem)


def _is_squarer(target: str) -> bool:
    """The witnessed process ran squarer: as its target, or (a Process subclass) through its run()."""
    return target in ("squarer", "") or target.endswith(".run")


@pytest.mark.points(2)
def test_one_child_process_over_a_pipe(student, rng):
    """square_via_pipe starts one child process per call (none needed for no numbers), and the child runs squarer"""
    cases = [[7], [-4, 0, 6], _random_numbers(rng, 2, 7), []]
    result, outcomes, hung = _run_cases(student, cases, CALL_TIMEOUT_S)
    # A hang is the other checks' deduction: here the witness counts the children of the calls that began.
    ran = cases if hung is None else cases[:max(hung, 0) + 1]
    workers = _workers(result)
    needed = sum(1 for case in ran if case)
    calls_text = ", ".join(short(case) for case in ran)
    if not needed <= len(workers) <= needed + 1:
        raised = next((o["raised"] for o in outcomes if "raised" in o), None)
        if raised and raised.get("type") != "EOFError":  # it stopped before its child did anything
            case = cases[next(i for i, o in enumerate(outcomes) if "raised" in o)]
            fail(describe_raised(f"square_via_pipe({short(case)})", raised, student.path))
        numbers = sum(len(case) for case in cases)
        if not workers:
            how = ("no child process: the squares were computed in the calling process"
                   + ("" if calls(result, "Pipe") else ", and no Pipe was made"))
        elif len(workers) == numbers:
            how = f"{len(workers)} child processes, one for every number"
        else:
            how = f"{len(workers)} child processes"
        calls(result, "Process.start")  # the words rest on the kit's count; a faked count fails as tampering
        fail(f"square_via_pipe was called {len(ran)} times (with {calls_text}) and started {how}. Start exactly "
             "one child per call, running squarer with one end of a multiprocessing.Pipe(), and send it every "
             "number in turn.")
    other = next((p for p in workers if not _is_squarer(str(p.get("target") or ""))), None)
    check(other is None,
          f"square_via_pipe started a child process running {other and other.get('target')}, not squarer. Start "
          "it with Process(target=squarer, args=(child_end,)): squarer is what the exercise asks the child to run.")


def _waits_for_child(path: Path) -> bool:
    """The file waits for a process to end outside squarer and main: ``p.join()`` (not ``", ".join(...)``),
    ``p.is_alive()`` or ``active_children()``."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8", errors="replace"))
    except (OSError, SyntaxError, ValueError):
        return False
    for function in ast.walk(tree):
        if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)) or function.name in ("squarer", "main"):
            continue
        for node in ast.walk(function):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name == "join" and isinstance(func, ast.Attribute) and not isinstance(func.value, ast.Constant) \
                    and (not node.args or len(node.args) == 1 and isinstance(node.args[0], ast.Constant)
                         and isinstance(node.args[0].value, (int, float))):
                return True  # Process.join(timeout=None); str.join and os.path.join take what they join
            if name in ("is_alive", "active_children"):
                return True
    return False


@pytest.mark.points(2)
def test_child_stops_on_none_and_is_joined(student, rng):
    """the child ends cleanly on None (exit code 0) and square_via_pipe joins it: nothing is left running"""
    cases = [[], [7], [-5, 0, 8], _random_numbers(rng, 2, 6)]
    result, outcomes, hung = _run_cases(student, cases, CALL_TIMEOUT_S)
    if hung is not None:
        fail(_hang_text(student, cases, hung, result))
    raised = next(((case, o["raised"]) for case, o in zip(cases, outcomes) if "raised" in o), None)
    if raised:
        fail(_outcome_problem(student, cases, outcomes, result))
    require_no_crash(result, student.path, "square_via_pipe",
                     ON_NONE if "NoneType" in result.stderr.text else
                     "Send None when you are done and let squarer return when it receives it.")
    _require_clean_exit(result, "square_via_pipe")
    if not _waits_for_child(student.path):
        joined = calls(result, "Process.join")
        fail("square_via_pipe never calls join() on its child process"
             + (f" (the kit saw {joined} join() call(s) from your code, but none in {student.path.name} outside "
                "squarer and main)" if joined else "")
             + ". The child happened to end in time here, but nothing waits for it: after sending None, join() "
               "the child, so it has really finished before you return.")


@pytest.mark.points(2)
def test_parent_notices_a_dead_child(student):
    """when its child dies, square_via_pipe stops waiting (the parent closed the child's end of the Pipe after start())"""
    numbers = [7, -3, UNSQUARABLE, 5]
    # Run without judging: the hang this check looks for must not shorten the later calls' time limits.
    result = student.run("each_case", FUNCTION, [[numbers]], kind="driver", timeout=DEAD_CHILD_TIMEOUT_S)
    if not (result.status == "timeout" and result.phase == "calling"):
        if result.status != "returned":  # not about the Pipe: the kit explains it (and remembers import failures)
            result, _ = student.each(FUNCTION, [(numbers,)], timeout=DEAD_CHILD_TIMEOUT_S)
        outcome = (result.value or [{}])[0] if isinstance(result.value, list) else {}
        if not _workers(result):  # it never got as far as a child: nothing was shown
            call = "square_via_pipe([7, -3, <a value that cannot be squared>, 5])"
            fail(describe_raised(call, outcome["raised"], student.path) if "raised" in outcome else
                 f"{call} started no child process, so there was no child to die. Start one running squarer.")
        return  # it returned or raised: either way it did not wait forever
    died = worker_error(result, student.path)
    died_text = (f"the kit sent, as the third number, a value whose square raises TypeError, and the child died "
                 f"there:\n{died}\n" if died else "its child ended early (the kit sent a value it cannot square), ")
    stopped = (f"was stopped after {result.hang.get('after_s', 0):.1f} s, waiting with nothing left to wake it"
               if result.hang.get("deadlock") else f"did not finish within {student.limit(DEAD_CHILD_TIMEOUT_S):g} s")
    fail(f"square_via_pipe([7, -3, <a value that cannot be squared>, 5]) {stopped}: {died_text}"
         "but square_via_pipe kept waiting in recv() for an answer that can never come. recv() raises EOFError "
         "once no process holds the other end of the Pipe any more, and the parent still held the child's end. "
         "Close the child's end in the parent right after start() (child_end.close(), or start the child inside "
         "`with child_end:`), as the exercise asks (close the ends you no longer need); close your own end when "
         "you are done." + (f"\n{waits}" if (waits := describe_hang(result, student.path)) else ""))
