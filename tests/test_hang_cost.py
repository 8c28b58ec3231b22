"""A function that hung once does not cost its full limit again in every other check."""
from __future__ import annotations

import time
from pathlib import Path

import pytest

from conftest import SUBMISSIONS, grade_cli, whole
from mpgrade.grading import student as student_module
from mpgrade.sandbox.call import CallResult
from mpgrade.settings import GradingSettings
from mpgrade.grading.student import HANG_RETRY_FACTOR, HANG_RETRY_S, Student
from mpgrade_sandboxed.protocol import Phase, Status


@pytest.fixture
def fresh(monkeypatch, tmp_path):
    monkeypatch.setattr(student_module, "_hangs", {})
    monkeypatch.setattr(student_module, "_slowest", {})
    settings = GradingSettings(submission=tmp_path, start_method="spawn", timeout_factor=1.0, seed=1, report=None)
    return Student(settings, "ex03_queue")


def ended(status: Status, seconds: float = 0.5) -> CallResult:
    return CallResult(status=status, phase=Phase.CALLING if status == Status.TIMEOUT else Phase.DONE,
                      outside_seconds=seconds)


def limits_given(student: Student, outcomes: list[CallResult], target: str = "process_all",
                 kind: str = "function", timeout: float = 20.0) -> list[float]:
    """The limit each call in turn was given, the calls ending as ``outcomes`` say."""
    given = []
    for outcome in outcomes:
        def call(seconds: float, outcome: CallResult = outcome) -> CallResult:
            given.append(seconds)
            return outcome
        student._timed(student._key(None), target, kind, f"`{target}(...)`", timeout, call)
    return given


def test_after_a_hang_the_same_function_waits_less_but_is_still_called(fresh):
    given = limits_given(fresh, [ended(Status.TIMEOUT), ended(Status.RETURNED), ended(Status.TIMEOUT)])
    assert given == [20.0, HANG_RETRY_S, HANG_RETRY_S]


def test_a_slow_function_keeps_room_for_its_slowest_finished_call(fresh):
    given = limits_given(fresh, [ended(Status.RETURNED, 3.0), ended(Status.TIMEOUT), ended(Status.TIMEOUT)])
    assert given == [20.0, 20.0, HANG_RETRY_FACTOR * 3.0]
    # never more than the call's own limit
    assert limits_given(fresh, [ended(Status.TIMEOUT)], timeout=4.0) == [4.0]


def test_other_functions_keep_their_limit_and_the_script_waits_less(fresh):
    limits_given(fresh, [ended(Status.TIMEOUT)])
    assert limits_given(fresh, [ended(Status.RETURNED)], target="produce") == [20.0]
    assert limits_given(fresh, [ended(Status.TIMEOUT)], target="__script__", kind="script", timeout=30) == [HANG_RETRY_S]


def test_a_submission_that_deadlocks_costs_seconds_and_one_deduction_per_mistake(tmp_path):
    """One sentinel for several consumers: every call with more consumers than sentinels deadlocks. Each is stopped
    in about a second (not at its 20 s limit), named as a deadlock with who waits where, and the structure check
    (one producer, the consumers do the work) and the guard judge what was seen instead of failing again."""
    began = time.monotonic()
    _, report = grade_cli(whole(SUBMISSIONS / "mistakes" / "ex03_one_sentinel"), tmp_path, "ex03")
    elapsed = time.monotonic() - began
    checks = {c["id"].split("::")[-1]: c for c in report["exercises"]["ex03_queue"]["checks"]}
    deadlocked = [c for c in checks.values() if "(a deadlock)" in c["feedback"]]
    assert deadlocked, [c["feedback"][:160] for c in checks.values()]
    assert all("did not finish within" not in c["feedback"] for c in checks.values())
    assert all("in `get()` on a Queue, at ex03_queue.py:29" in c["feedback"] for c in deadlocked)
    assert checks["test_one_producer_and_the_consumers_do_the_work"]["status"] == "passed"
    guard = checks["test_main_guard"]
    # One mistake, one deduction: the hang costs process_all's checks; the guard passes and says why.
    assert guard["status"] == "passed" and "fix that hang first" in guard["feedback"], guard["feedback"]
    assert "not a guard problem" in guard["feedback"]
    assert "top level" not in guard["feedback"]  # not the guard hint: the file has a proper guard
    assert all(c["duration_s"] < 10 for c in checks.values()), {k: c["duration_s"] for k, c in checks.items()}
    assert elapsed < 60, elapsed  # the same exercise graded with 20 s hangs took ~45 s of waiting alone
