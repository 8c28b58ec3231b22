"""The hostile battery (tests/submissions/hostile/): every case reaches its verdict, names its cause,
and leaves no process and nothing in /dev/shm behind."""
from __future__ import annotations

import dataclasses
import importlib.util
import sys
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location(
    "hostile_battery", Path(__file__).parent / "submissions" / "hostile" / "battery.py")
battery = importlib.util.module_from_spec(_spec)
sys.modules["hostile_battery"] = battery
_spec.loader.exec_module(battery)


@pytest.mark.parametrize("case", battery.CASES, ids=lambda case: case.name)
def test_hostile_submission_is_contained(case, tmp_path):
    """Process-level hardening alone, as on most machines (benchmarks/hostile.py also runs it inside bwrap)."""
    row = battery.run_case(case, tmp_path, namespaces="off")
    assert row.problems == [], f"{case.name}: {row.problems}\nfeedback:\n{row.feedback}"
    assert row.processes_left == 0, f"{case.name} left {row.processes_left} processes alive"
    assert row.shm_left == [], f"{case.name} left {row.shm_left} in /dev/shm"


def test_every_case_folder_is_in_the_battery():
    folders = {p.name for p in battery.HERE.iterdir() if p.is_dir() and not p.name.startswith("__")}
    assert folders <= {case.name for case in battery.CASES + battery.CONFINED}


def test_a_hostile_exercise_leaves_the_others_graded(tmp_path, leftovers):
    """A fork bomb in ex01 costs ex01's points only: ex04 next to it still gets full marks."""
    import shutil

    from conftest import KIT_ROOT, grade_cli

    submission = tmp_path / "submission"
    submission.mkdir()
    shutil.copy(battery.HERE / "fork_bomb" / "ex01_processes.py", submission)
    shutil.copy(KIT_ROOT / "solutions" / "ex04_pipe.py", submission)
    completed, report = grade_cli(submission, tmp_path, "ex01", "ex04")
    assert completed.returncode == 1
    assert report["exercises"]["ex04_pipe"]["score"] == 10
    ex01 = report["exercises"]["ex01_processes"]
    assert any("processes alive at once" in check["feedback"] for check in ex01["checks"])
    assert ex01["score"] <= 1  # at most the guard point: the file runs nothing at import
    assert report["environment"]["limits"]["max_processes"] == 100
    assert leftovers() == []


def _landlock_or_skip() -> None:
    from mpgrade.sandbox import confinement

    works, why = confinement.available()
    if not works:
        pytest.skip(f"Landlock is not available here: {why}")


@pytest.mark.parametrize("case", [c for c in battery.CONFINED if c.needs_landlock], ids=lambda case: case.name)
def test_landlock_refuses_what_process_level_grading_allows(case, tmp_path):
    """Outside bubblewrap: Landlock refuses the read, write, connection or signal, and the check fails; with
    Landlock off the same file scores (the threat is real, and the test would notice the refusal going away)."""
    _landlock_or_skip()
    row = battery.run_case(case, tmp_path / "on", namespaces="off", landlock="auto")
    assert row.problems == [], f"{case.name}: {row.problems}\nfeedback:\n{row.feedback}"
    assert row.processes_left == 0 and row.shm_left == []
    unconfined = battery.run_case(dataclasses.replace(case, expect="passed", says=(), must_not_exist=()),
                                  tmp_path / "off", namespaces="off", landlock="off")
    assert unconfined.verdict == "passed", f"{case.name} did not score even unconfined:\n{unconfined.feedback}"


@pytest.mark.parametrize("landlock", ["auto", "off"])
@pytest.mark.parametrize("case", [c for c in battery.CONFINED if c.max_written_mb], ids=lambda case: case.name)
def test_a_call_that_writes_past_its_limit_is_stopped(case, landlock, tmp_path):
    """Files in the call's folder and blocks in /dev/shm count together against max_written_mb, with or without
    Landlock; the feedback gives the figures."""
    if landlock == "auto":
        _landlock_or_skip()
    row = battery.run_case(case, tmp_path, namespaces="off", landlock=landlock)
    assert row.problems == [], f"{case.name}: {row.problems}\nfeedback:\n{row.feedback}"
    assert row.processes_left == 0 and row.shm_left == []
