"""The hostile battery (tests/submissions/hostile/): every case reaches its verdict, names its cause,
and leaves no process and nothing in /dev/shm behind."""
from __future__ import annotations

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
    row = battery.run_case(case, tmp_path)
    assert row.problems == [], f"{case.name}: {row.problems}\nfeedback:\n{row.feedback}"
    assert row.processes_left == 0, f"{case.name} left {row.processes_left} processes alive"
    assert row.shm_left == [], f"{case.name} left {row.shm_left} in /dev/shm"


def test_every_case_folder_is_in_the_battery():
    folders = {p.name for p in battery.HERE.iterdir() if p.is_dir() and not p.name.startswith("__")}
    assert folders <= {case.name for case in battery.CASES}
