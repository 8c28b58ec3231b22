"""Grader for exercise 4: a child process served over a Pipe."""
from __future__ import annotations

import pytest

from mpgrade import Exercise, calls, check, require_clean_exit, short

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
    got = student.call("square_via_pipe", numbers).value
    expected = [n * n for n in numbers]
    check(got == expected, f"square_via_pipe({short(numbers)}) returned {short(got)}; expected {short(expected)}. "
                           "Send one number, then receive its square, for each number in turn.")


@pytest.mark.points(3)
def test_one_child_process_over_a_pipe(student, rng):
    """the squares come from one child process, over a multiprocessing.Pipe"""
    numbers = [rng.randrange(100) for _ in range(5)]
    result = student.call("square_via_pipe", numbers)
    check(calls(result, "Pipe") >= 1, "square_via_pipe does not create a multiprocessing.Pipe(). "
                                      "Make one and give one end to the child process.")
    started = calls(result, "Process.start")
    check(started == 1, f"square_via_pipe started {started} processes; start exactly one child running squarer.")


@pytest.mark.points(3)
def test_child_stops_on_none_and_ends_are_closed(student, rng):
    """the child stops on None and is joined; the parent closes its ends"""
    numbers = [rng.randrange(100) for _ in range(4)]
    result = student.call("square_via_pipe", numbers, timeout=15)
    require_clean_exit(result, "square_via_pipe")
    check(calls(result, "Connection.close") >= 1,
          "square_via_pipe never closes a Pipe end. Close the child's end in the parent after start(), "
          "and your own end when you are done.")
