"""Report v1: arithmetic, atomic writing, and the sandbox/trusted split of the engine's code."""
from __future__ import annotations

import ast
import json
import os

import pytest

from conftest import KIT_ROOT
from mpgrade.grading import report
from mpgrade.grading.console import exercise_totals, render


def record(exercise, name, status, score, max_score, feedback=""):
    return {"exercise": exercise, "name": name, "id": f"x::{name}", "status": status, "score": score,
            "max_score": max_score, "feedback": feedback, "duration_s": 0.25}


RECORDS = [
    record("ex02_pool", "a", "passed", 4, 4),
    record("ex01_processes", "b", "failed", 1.25, 3, "lost 3 of 10 updates"),
    record("ex01_processes", "c", "skipped", 0, 5, "one CPU"),
    record("ex01_processes", "d", "error", 0, 2),
]


def test_totals_leave_skipped_checks_out():
    built = report.build(RECORDS, "/sub", {"python": "3.12", "start_method": "spawn", "usable_cpus": 2})
    assert list(built["exercises"]) == ["ex01_processes", "ex02_pool"]
    assert built["exercises"]["ex01_processes"]["score"] == 1.25
    assert built["exercises"]["ex01_processes"]["max_score"] == 5
    assert (built["score"], built["max_score"]) == (5.25, 9)
    assert not report.all_passed(built)
    assert report.all_passed(report.build(RECORDS[:1], "/sub", {}))


def test_write_is_atomic_and_load_checks_the_schema(tmp_path):
    path = tmp_path / "deep" / "report.json"
    built = report.build(RECORDS, "/sub", {})
    report.write(built, path)
    assert report.load(path)["score"] == 5.25
    assert [p.name for p in path.parent.iterdir()] == ["report.json"]  # no temp file left
    (tmp_path / "other.json").write_text(json.dumps({"schema": "something-else"}))
    with pytest.raises(ValueError, match="not an mpgrade-report/1 report"):
        report.load(tmp_path / "other.json")


def test_a_failed_write_keeps_the_old_report(tmp_path):
    path = tmp_path / "report.json"
    report.write(report.build(RECORDS, "/sub", {}), path)
    with pytest.raises(TypeError):
        report.write({"schema": report.SCHEMA, "bad": object()}, path)
    assert report.load(path)["score"] == 5.25
    assert sorted(os.listdir(tmp_path)) == ["report.json"]


def test_console_shows_points_and_the_feedback_of_failed_checks():
    built = report.build(RECORDS, "/sub", {"start_method": "spawn"})
    text = render(built)
    assert "ex01_processes  1.25/5" in text
    assert "  FAIL   1.25/3  b" in text
    assert "lost 3 of 10 updates" in text
    assert exercise_totals(built)[-1].split() == ["Total", "5.25/9"]


def test_the_sandbox_side_imports_nothing_from_the_trusted_side():
    for path in (KIT_ROOT / "graders" / "mpgrade_sandboxed").glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            assert not any(n == "mpgrade" or n.startswith("mpgrade.") for n in names), path
