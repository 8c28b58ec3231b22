"""A function that hung once does not cost its full limit again in every other check (issue 17)."""
from __future__ import annotations

from pathlib import Path

import pytest

from conftest import SUBMISSIONS, grade_cli
from mpgrade import student as student_module
from mpgrade.sandbox.call import CallResult
from mpgrade.settings import GradingSettings
from mpgrade.student import HANG_RETRY_FACTOR, HANG_RETRY_S, Student
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


def test_a_submission_that_hangs_pays_the_full_limit_once(tmp_path, monkeypatch):
    """One sentinel for two consumers: every call with two consumers hangs; the guard's script too."""
    monkeypatch.setenv("MPGRADE_TIMEOUT_FACTOR", "0.5")  # 20 s limits become 10 s, retries 2.5 s at least
    _, report = grade_cli(SUBMISSIONS / "mistakes" / "ex03_one_sentinel", tmp_path, "ex03")
    checks = {c["id"].split("::")[-1]: c for c in report["exercises"]["ex03_queue"]["checks"]}
    timed_out = [c for c in checks.values() if "did not finish within" in c["feedback"]]
    assert len(timed_out) >= 3, [c["feedback"][:120] for c in checks.values()]
    first, *later = sorted(timed_out, key=lambda c: c["duration_s"], reverse=True)
    assert all("In an earlier check" in c["feedback"] for c in later), [c["feedback"][:200] for c in later]
    guard = checks["test_main_guard"]
    # One mistake, one deduction: the hang costs process_all's checks; the guard passes and says why.
    assert guard["status"] == "passed" and "fix that hang first" in guard["feedback"], guard["feedback"]
    assert "not a guard problem" in guard["feedback"]
    assert "top level" not in guard["feedback"]  # not the guard hint: the file has a proper guard
    # the first hang waited its full limit, each later one less (2.5 s, or 4x the slowest finished call: a
    # check whose inputs let the function finish tells how long it needs)
    assert all(c["duration_s"] < first["duration_s"] for c in later), [c["duration_s"] for c in timed_out]
