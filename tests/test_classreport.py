"""The class report renders in a real headless browser (Debian's Chromium) and shows what it should."""
from __future__ import annotations

import shutil
import struct
import subprocess

import pytest

from mpgrade.grading import report
from mpgrade.batch.classreport import render

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _record(exercise, score, speedup=None):
    check = {"exercise": exercise, "name": "a check", "id": f"x::{exercise}", "status": "passed" if score == 10 else "failed",
             "score": score, "max_score": 10, "feedback": "", "duration_s": 1.0}
    if speedup:
        check["details"] = {"speedup": {"student_speedup": speedup[0], "engine_speedup": speedup[1]}}
    return check


def _rows():
    rows = []
    for name, (a, b) in {"alice": (10, 10), "bob": (0, 4), "carol": (10, 7)}.items():
        graded = report.build([_record("ex01_processes", a), _record("ex02_pool", b, (1.61, 1.84))], "/s", {})
        rows.append({"status": {"id": name, "status": "graded"}, "report": graded,
                     "feedback_link": f"students/{name}/feedback.md"})
    rows.append({"status": {"id": "dave<script>", "status": "error", "reason": "grading did not finish within 900 s"},
                 "report": None, "feedback_link": "students/dave/feedback.md"})
    return rows


SUMMARY = {"students": 4, "graded": 3, "errors": 1, "mean": 13.67, "median": 17,
           "pass_rates": {"ex01_processes": 0.667, "ex02_pool": 0.333}, "most_failed_checks": []}


def test_the_page_is_self_contained_and_escapes_names():
    page = render(_rows(), SUMMARY)
    assert "<script" not in page.replace("dave&lt;script&gt;", "")
    assert "http" not in page  # no external resources
    assert "students/bob/feedback.md" in page and "1.61x of 1.84x" in page
    assert "grading did not finish within 900 s" in page


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)")
def test_it_renders_in_headless_chromium(tmp_path):
    page = tmp_path / "report.html"
    page.write_text(render(_rows(), SUMMARY))
    dom = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom",
                          page.as_uri()], capture_output=True, text=True, timeout=120)
    assert "Class report" in dom.stdout and "<svg" in dom.stdout and "carol" in dom.stdout
    shot = tmp_path / "report.png"
    subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile2'}", f"--screenshot={shot}",
                    "--window-size=1000,800", page.as_uri()], capture_output=True, timeout=120)
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (1000, 800)
    assert len(data) > 20_000  # a rendered page with text and bars, not a blank one
