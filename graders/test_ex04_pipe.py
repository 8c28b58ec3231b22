"""Grader for exercise 4: a child process served over a Pipe."""
from __future__ import annotations

import pytest

from mpgrade import (
    Exercise, calls, check, child_crash, element_text, fail, first_difference, require_clean_exit, require_no_crash,
    short,
)

ON_NONE = ("It failed on None, the stop message: check for None right after conn.recv(), and stop (break) "
           "before using the value.")

EXERCISE = Exercise(
    title="a child process served over a Pipe",
    points=10,
    you_write="`squarer`, `square_via_pipe`",
    goals="`Pipe` ends, `send`/`recv` in order, a stop message, closing ends",
)


@pytest.mark.points(3)
def test_squares_in_order(student, rng):
    """square_via_pipe returns the squares, in order"""
    numbers = [rng.randrange(-10_000, 10_000) for _ in range(rng.randrange(5, 12))]
    result = student.call("square_via_pipe", numbers)
    got = result.value
    expected = [n * n for n in numbers]
    if got == expected:
        return
    text = f"square_via_pipe({short(numbers)}) returned {short(got)}"
    crash = child_crash(result, student.path)
    if crash:
        fail(f"{text}; expected {short(expected)}.\n{crash}")
    if isinstance(got, list):
        text += f": {element_text(got, expected, first_difference(got, expected))}"
    fail(f"{text}. Send one number, then receive its square, for each number in turn.")


@pytest.mark.points(3)
def test_one_child_process_over_a_pipe(student, rng):
    """square_via_pipe creates a multiprocessing.Pipe and starts exactly one child process"""
    numbers = [rng.randrange(100) for _ in range(5)]
    result = student.call("square_via_pipe", numbers)
    check(calls(result, "Pipe") >= 1, "square_via_pipe does not create a multiprocessing.Pipe(). "
                                      "Make one and give one end to the child process.")
    started = calls(result, "Process.start")
    check(started == 1, f"square_via_pipe started {started} processes; start exactly one child running squarer.")


@pytest.mark.points(3)
def test_child_stops_on_none_and_ends_are_closed(student, rng):
    """the child stops on None without an error and is joined; the parent closes a Pipe end"""
    numbers = [rng.randrange(100) for _ in range(4)]
    result = student.call("square_via_pipe", numbers, timeout=15)
    require_no_crash(result, student.path, "square_via_pipe",
                     ON_NONE if "NoneType" in result.stderr.text else
                     "Send None when you are done and let squarer return when it receives it.")
    check(calls(result, "Process.join") >= 1,
          "square_via_pipe never calls join() on its child process. After sending None, join() the child, "
          "so it has really finished before you return.")
    require_clean_exit(result, "square_via_pipe")
    check(calls(result, "Connection.close") >= 1,
          "square_via_pipe never closes a Pipe end. Close the child's end in the parent after start(), "
          "and your own end when you are done.")
