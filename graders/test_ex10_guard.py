"""Grader for exercise 10: the __main__ guard and a picklable Pool function."""
from __future__ import annotations

import ast
import re

import pytest

from mpgrade import (
    CheckFailed, Exercise, GradingError, calls, check, check_dynamic, check_static, count_primes_below, fail,
    guard_blocks, require_clean_exit, short, started_processes,
)
from mpgrade import describe_raised


EXERCISE = Exercise(
    title="the __main__ guard and a picklable Pool function",
    points=10,
    guard_points=0,  # test_main_guard below checks the guard its own way
    you_write="restructure the script",
    goals='the `if __name__ == "__main__":` guard; top-level functions for a Pool (no lambdas)',
)


LINE = re.compile(r"^primes below (\d+): (\d+)$", re.MULTILINE)


def _each(student, function: str, cases: list[tuple], labels: list[str], timeout: float):
    """``student.each`` on a check's cases, in one sandbox; a hang names the case it stopped in (the last case
    mark the driver printed)."""
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
        call = f"{function}({', '.join(short(a) for a in cases[index])})"
        where = f"the edge case {call} ({labels[index]})" if labels[index] else f"the case {call}"
        raise CheckFailed(f"On {where}:\n" + "\n".join(lines)) from None


@pytest.mark.points(3)
def test_top_level_only_defines_things(student):
    """the module's top level only imports and defines things: nothing runs on import"""
    check_static(student.path)


PARALLEL_EDGES = (("a single limit", [7], 2), ("more processes than limits", [10, 20], 4), ("no limits", [], 2),
                  ("the default number of processes", [30, 40, 50], None))
"""Fixed edge cases of parallel_counts besides random limits: (what it is, limits, processes)."""


@pytest.mark.points(3)
def test_parallel_counts_works_under_spawn(student, rng):
    """parallel_counts gives the right counts, computed by a Pool's worker processes (seen from outside), also
    when workers are spawned: random limits, and fixed edge cases (one limit, more processes than limits, no
    limits, the default number of processes)"""
    limits = [rng.randrange(5_000, 40_000) for _ in range(4)]
    cases = [("", limits, 2), *PARALLEL_EDGES]
    result, outcomes = _each(student, "parallel_counts", [(case, processes) for _, case, processes in cases],
                             [c[0] for c in cases], 60)
    for (label, case, processes), outcome in zip(cases, outcomes):
        prefix = f"On a fixed edge case ({label}): " if label else ""
        call = f"parallel_counts({case}, {processes})"
        if "raised" in outcome:
            fail(prefix + describe_raised(f"`{call}`", outcome["raised"], student.path, result.api_calls))
        expected = [count_primes_below(limit) for limit in case]
        check(outcome.get("value") == expected, f"{prefix}{call} returned {outcome.get('value')}; expected {expected}.")
    pooled = started_processes(result, "pool") if result.witnessed else calls(result, "Pool.__init__")
    if not pooled:
        others = started_processes(result)
        if calls(result, "ThreadPool.__init__"):
            how = ("it uses a ThreadPool, whose workers are threads of the calling process. A ThreadPool needs no "
                   "pickling, which is why it takes a lambda, but nothing runs in another process")
        elif others:
            how = (f"the work ran in {'an executor' if others[0].get('role') == 'executor' else 'other'} worker "
                   "processes, not in a multiprocessing.Pool")
        else:
            how = "the counting ran in the calling process"
        fail(f"parallel_counts started no Pool worker process: {how}. Keep the multiprocessing.Pool of the exercise, "
             "and hand pool.map a function defined at the top level of the module (no lambda), which a worker "
             "process can import by name.")
    require_clean_exit(result, "parallel_counts")


@pytest.mark.points(3)
def test_runs_as_a_script(student):
    """`python ex10_guard.py` runs to the end under spawn and prints the right counts"""
    result = student.script(timeout=40)
    exit_code = result.value["exit_code"]
    check(exit_code == 0, f"`python ex10_guard.py` exited with code {exit_code}.")
    found = [(int(limit), int(count)) for limit, count in LINE.findall(result.stdout.text)]
    if not found:
        wrong_guard = [(block.lineno, text) for block, text in guard_blocks(student.path) if text != "__main__"]
        if wrong_guard:
            line, text = wrong_guard[0]
            fail(f"`python ex10_guard.py` printed nothing: the guard at line {line} compares __name__ with "
                 f"{text!r}, which it never equals (run as a script, __name__ is \"__main__\"), so main() never "
                 "runs. Write `if __name__ == \"__main__\":`.")
        uncalled = [node.lineno for block, _ in guard_blocks(student.path) for node in block.body
                    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Name)]
        if uncalled:
            fail(f"`python ex10_guard.py` printed nothing: line {uncalled[0]} names a function without calling it "
                 "(no parentheses), so main() never runs. Write `main()`.")
        fail("`python ex10_guard.py` printed no line like 'primes below 20000: 2262'. Keep the demo's "
             "print in main(), and call main() under `if __name__ == \"__main__\":`.")
    wrong = [f"{limit}: printed {count}, is {count_primes_below(limit)}" for limit, count in found
             if count != count_primes_below(limit)]
    if wrong:
        fail("`python ex10_guard.py` printed wrong counts: " + "; ".join(wrong))
    require_clean_exit(result, "the script")


@pytest.mark.points(1)
def test_main_guard(student):
    """safe under spawn and forkserver: importing as a child does nothing, and the script runs to the end"""
    check_dynamic(student)
