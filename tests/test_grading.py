"""The pytest command line the CLI grades with."""
from __future__ import annotations

from pathlib import Path

from mpgrade.grading.command import pytest_command


def test_an_exercise_s_checks_stay_in_one_worker_when_graded_in_parallel(tmp_path: Path):
    """What the kit remembers of a hang is per grading process: with xdist, group the checks by file (exercise)."""
    command = pytest_command([tmp_path / "test_ex03_queue.py"], tmp_path, tmp_path / "r.json", None, "2", [])
    at = command.index("-n")
    assert command[at:at + 4] == ["-n", "2", "--dist", "loadfile"], command
    assert "--dist" not in pytest_command([], tmp_path, tmp_path / "r.json", None, None, [])
