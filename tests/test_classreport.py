"""The class report renders in a real headless browser (Debian's Chromium) and shows what it should: the
speedups measured, the class's most common causes with an example and its timeline, the most failed checks."""
from __future__ import annotations

import json
import shutil
import struct
import subprocess
import threading
from pathlib import Path

import pytest

from conftest import KIT_ROOT, SUBMISSIONS, whole
from mpgrade.batch.classreport import render, speedups
from mpgrade.batch.grade import grade_class
from mpgrade.grading import report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = KIT_ROOT / "test-artifacts"
"""Screenshots a run leaves for a person to look at (ignored by git)."""
CLASS = {"bob": "ex01_join_in_start_loop", "carol": "ex01_exitcode_before_join", "dave": "ex01_exitcode_before_join"}
"""A class graded for real on ex01: three students with mistakes from the catalogue."""


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    """The class above graded by ``grade_class`` in the background from the first test of this module on."""
    root = tmp_path_factory.mktemp("class")
    for student, entry in CLASS.items():
        source = whole(SUBMISSIONS / "mistakes" / entry)
        (root / "class" / f"assignment-{student}" / "exercises").mkdir(parents=True)
        shutil.copy(source / "ex01_processes.py", root / "class" / f"assignment-{student}" / "exercises")
    outcome: dict = {}

    def grade() -> None:
        try:
            outcome["summary"] = grade_class(root / "class", root / "results", workers=2, exercises=["ex01"],
                                             budget_s=120)
        except BaseException as problem:  # noqa: BLE001  (re-raised in the test that waits)
            outcome["problem"] = problem

    worker = threading.Thread(target=grade)
    worker.start()

    def wait() -> tuple[dict, Path]:
        worker.join(timeout=600)
        if "problem" in outcome:
            raise outcome["problem"]
        return outcome["summary"], root / "results"

    yield wait
    worker.join(timeout=600)


@pytest.fixture
def measured_speedup(monkeypatch):
    """The details the real speedup check (``check_speedup``) writes for a measured speedup: only the clock is
    stood in for, by pairs a parallel student on 2 CPUs would give (the check's own battery measures for real:
    tests/test_speedup.py)."""
    from mpgrade.verdicts import speedup
    from mpgrade.verdicts.speedup_decision import Pair, decide

    serial, pairs = [2.0, 2.02], [Pair(engine_s=1.1, student_s=1.2), Pair(engine_s=1.12, student_s=1.18)]
    structure = speedup.Structure(processes=2, pools_created=1, threadpools_created=0, workers_started=2,
                                  child_cpu_s=2.0, serial_cpu_s=2.0, parallelism=1.7, usable_cpus=2)
    measured = (decide(serial, pairs, 2, 2, final=True, engine_cal_s=1.1), structure,
                speedup.Calibration(serial, 2.0, 1.1, 0.0), speedup.Cost(0.0, 5.0, True))
    monkeypatch.setattr(speedup, "measure", lambda *args, **kwargs: measured)
    details: dict = {}
    speedup.check_speedup(None, details, "structural", "primes_in_ranges", (), "count", [], 2, None)
    return details


def _record(exercise, score, details=None, cause=None):
    check = {"exercise": exercise, "name": "a check", "id": f"x::{exercise}", "status": "passed" if score == 10 else "failed",
             "score": score, "max_score": 10, "feedback": "it went wrong", "duration_s": 1.0}
    if details:
        check["details"] = details
    if cause:
        check["cause"] = cause
    return check


def _rows(speedup_details):
    rows = []
    for name, (a, b) in {"alice": (10, 10), "bob": (0, 4), "carol": (10, 7)}.items():
        graded = report.build([_record("ex01_processes", a, cause=None if a == 10 else "not-joined"),
                               _record("ex02_pool", b, speedup_details)], "/s", {})
        rows.append({"status": {"id": name, "status": "graded"}, "report": graded,
                     "feedback_link": f"students/{name}/feedback.md"})
    rows.append({"status": {"id": "dave<script>", "status": "error", "reason": "grading did not finish within 900 s"},
                 "report": None, "feedback_link": "students/dave/feedback.md"})
    return rows


SUMMARY = {"students": 4, "graded": 3, "errors": 1, "mean": 13.67, "median": 17,
           "pass_rates": {"ex01_processes": 0.667, "ex02_pool": 0.333},
           "most_failed_checks": [{"check": "ex02_pool: a check", "students": 2}],
           "common_causes": [{"cause": "not-joined", "title": "did not join the processes", "students": 1,
                              "exercises": {"ex01_processes": 1},
                              "example": {"exercise": "ex01_processes", "check": "a check", "feedback": "it <went>"}}]}


def test_the_page_is_self_contained_and_escapes_names(measured_speedup):
    page = render(_rows(measured_speedup), SUMMARY)
    assert "<script" not in page.replace("dave&lt;script&gt;", "")
    assert "http" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")  # no external resources
    assert "students/bob/feedback.md" in page and "grading did not finish within 900 s" in page
    assert "it &lt;went&gt;" in page


def test_the_speedup_column_shows_every_measured_speedup(measured_speedup):
    """The speedup check writes its figures in details.decision; a page that reads anything else is empty."""
    decision = measured_speedup["decision"]
    graded = report.build([_record("ex02_pool", 10, measured_speedup)], "/s", {})
    assert speedups(graded) == [(decision["student_speedup"], decision["engine_speedup"])]
    page = render(_rows(measured_speedup), SUMMARY)
    shown = f"{decision['student_speedup']:.2f}x of {decision['engine_speedup']:.2f}x"
    assert page.count(shown) == 3, shown  # one per graded student


def test_the_page_shows_the_common_causes_and_the_most_failed_checks(measured_speedup):
    page = render(_rows(measured_speedup), SUMMARY)
    assert "What the class got wrong" in page and "did not join the processes" in page and "not-joined" in page
    assert "Most failed checks" in page and "ex02_pool: a check" in page


def _browser(page: Path, profile: Path, *flags: str) -> subprocess.CompletedProcess:
    return subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *flags, page.as_uri()],
                          capture_output=True, text=True, timeout=120)


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_a_real_class_names_what_it_got_wrong(graded_class):
    summary, results = graded_class()
    causes = {item["cause"]: item for item in summary["common_causes"]}
    assert causes["exitcode-before-join"]["students"] == 2, summary["common_causes"]
    assert causes["join-in-start-loop"]["students"] == 1, summary["common_causes"]
    example = causes["join-in-start-loop"]["example"]
    assert example["timeline"]["says"].startswith("No two task runs overlapped")
    assert "bob" not in json.dumps(example)  # anonymised
    feedback = (results / "students" / "bob" / "feedback.md").read_text(encoding="utf-8")
    assert "No two task runs overlapped" in feedback and "<svg" in feedback
    page = (results / "report.html").read_text(encoding="utf-8")
    assert "read exitcode before join()" in page and "<svg" in page and 'fill="url(#run)"' in page


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)")
def test_it_renders_in_headless_chromium(graded_class, measured_speedup, tmp_path):
    _, results = graded_class()
    ARTIFACTS.mkdir(exist_ok=True)
    pages = {"class-report": results / "report.html", "class-report-made-up": tmp_path / "made-up.html"}
    pages["class-report-made-up"].write_text(render(_rows(measured_speedup), SUMMARY), encoding="utf-8")
    for name, page in pages.items():
        dom = _browser(page, tmp_path / f"{name}-profile", "--dump-dom").stdout
        assert "Class report" in dom and "<svg" in dom and "What the class got wrong" in dom
        shot = tmp_path / f"{name}.png"
        _browser(page, tmp_path / f"{name}-profile2", f"--screenshot={shot}", "--window-size=1000,1600")
        data = shot.read_bytes()
        assert _png_size(data) == (1000, 1600)
        assert len(data) > 30_000  # a rendered page with text, tables and pictures, not a blank one
        shutil.copy(shot, ARTIFACTS / f"{name}.png")
    dom = _browser(pages["class-report"], tmp_path / "profile3", "--dump-dom").stdout
    assert "carol" in dom and "No two task runs overlapped" in dom  # the example's timeline, as its label
