"""Grader for exercise 10: the __main__ guard and a picklable Pool function."""
from __future__ import annotations

import ast
import re

import pytest

from mpgrade import (
    Exercise, calls, check, check_dynamic, check_static, count_primes_below, fail, guard_blocks, require_clean_exit,
)


EXERCISE = Exercise(
    title="the __main__ guard and a picklable Pool function",
    points=10,
    guard_points=0,  # test_main_guard below checks the guard its own way
    you_write="restructure the script",
    goals='the `if __name__ == "__main__":` guard; top-level functions for a Pool (no lambdas)',
)


LINE = re.compile(r"^primes below (\d+): (\d+)$", re.MULTILINE)


@pytest.mark.points(3)
def test_top_level_only_defines_things(student):
    """the module's top level only imports and defines things: nothing runs on import"""
    check_static(student.path)


@pytest.mark.points(3)
def test_parallel_counts_works_under_spawn(student, rng):
    """parallel_counts gives the right counts with a Pool, also when workers are spawned"""
    limits = [rng.randrange(5_000, 40_000) for _ in range(4)]
    result = student.call("parallel_counts", limits, 2, timeout=60)
    expected = [count_primes_below(limit) for limit in limits]
    check(result.value == expected, f"parallel_counts({limits}, 2) returned {result.value}; expected {expected}.")
    check(calls(result, "Pool.__init__") >= 1, "parallel_counts should use a multiprocessing.Pool.")
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
