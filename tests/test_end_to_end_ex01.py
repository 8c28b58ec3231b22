"""Exercise 1 graded end to end through the CLI, as students and instructors run it."""
from __future__ import annotations

from pathlib import Path

import pytest

from conftest import KIT_ROOT, SUBMISSIONS, BackgroundGrading, grade_cli, whole
from mpgrade.sandbox import confinement


def check(submission, tmp_path, *extra):
    return grade_cli(submission, tmp_path, "ex01", *extra, timeout=300)


def checks_by_name(report):
    return {c["id"].split("::")[1]: c for c in report["exercises"]["ex01_processes"]["checks"]}


@pytest.mark.parametrize("start_method", ["fork", "spawn", "forkserver"])
def test_the_reference_solution_scores_full_marks(tmp_path, start_method, leftovers):
    completed, report = check(KIT_ROOT / "solutions", tmp_path, "--start-method", start_method)
    assert completed.returncode == 0, completed.stdout
    assert "ex01_processes  10/10" in completed.stdout
    assert (report["score"], report["max_score"]) == (10, 10)
    assert report["environment"]["start_method"] == start_method
    # What confined the student's code: the strongest level this machine allows, as the probes found it.
    assert report["environment"]["confinement"] == confinement.describe("auto", "auto")["levels"]
    assert leftovers() == []


def test_the_untouched_stub_scores_zero_and_points_at_the_todos(tmp_path):
    completed, report = check(KIT_ROOT / "exercises", tmp_path)
    assert completed.returncode == 1
    assert "ex01_processes  0/10" in completed.stdout
    assert (report["score"], report["max_score"]) == (0, 10)
    for check_ in checks_by_name(report).values():
        assert check_["status"] == "failed"
        assert "NotImplementedError at ex01_processes.py:" in check_["feedback"]
        assert "Your TODO there:" in check_["feedback"]
        assert "Traceback" not in check_["feedback"]
        assert check_["cause"] == "not-written"  # what a class summary counts: students who left a TODO


BROKEN = {
    # folder: (expected score, {check: phrases its feedback must contain}, extra options)
    "import_syntax_error": (0, {"test_exit_codes_in_order": ["could not be imported: SyntaxError",
                                                             "ex01_processes.py:4"]}),
    "import_raises": (0, {"test_exit_codes_in_order": ["could not be imported: KeyError",
                                                       "ex01_processes.py:4", "top level"]}),
    "import_exits": (0, {"test_square_worker_is_a_process": ["SystemExit", "exits while it is being imported",
                                                             "running the demo at import time"]}),
    "import_loops_forever": (0, {"test_exit_codes_in_order": ["Importing ex01_processes.py did not finish within 5 s"],
                                 "test_square_worker_puts_squares": ["did not finish within 5 s"]}),
    "missing_function": (1, {"test_exit_codes_in_order": ["has no function `run_in_processes`"],
                             "test_square_worker_is_a_process": ["defines `SquareWorker`, but as a str, not a class"]}),
    "serial_join": (8, {"test_processes_run_at_the_same_time": ["one after another", "join() right after"]}),
    "wrong_exit_codes": (6, {"test_exit_codes_in_order": ["returned [None", "after joining them"],
                             "test_square_worker_puts_squares": ["expected [("]}),
    "worker_raises": (8, {"test_square_worker_puts_squares": ["A worker process raised ZeroDivisionError",
                                                              "ex01_processes.py:21"]}),
}


def _grade_broken(folder: str, scratch: Path, env: dict[str, str]) -> tuple:
    return grade_cli(whole(SUBMISSIONS / folder), scratch, "ex01", "--pytest-args", "--mpgrade-timeout-factor", "0.25",
                     timeout=300, env=env)


@pytest.fixture(scope="module")
def broken_graded(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    graded = BackgroundGrading(request, tmp_path_factory,
                               "test_broken_submissions_fail_the_right_checks_with_clear_feedback", "folder",
                               _grade_broken)
    yield graded
    graded.close()


@pytest.mark.parametrize("folder", sorted(BROKEN))
def test_broken_submissions_fail_the_right_checks_with_clear_feedback(folder, broken_graded):
    expected_score, phrases = BROKEN[folder]
    completed, report = broken_graded.result(folder)
    assert report["score"] == expected_score, completed.stdout
    checks = checks_by_name(report)
    for name, needed in phrases.items():
        assert checks[name]["status"] == "failed"
        for phrase in needed:
            assert phrase in checks[name]["feedback"], (phrase, checks[name]["feedback"])
    assert all(c["status"] != "error" for c in checks.values())
    # An import that hangs costs one time limit per grading process, not one per check.
    assert report["_elapsed"] < 60


def test_the_broken_submissions_leave_nothing_behind(broken_graded):
    left = broken_graded.left_alive()
    assert left == [], [(p.pid, p.cmdline()[:3]) for p in left]


def _in_a_terminal(command: list[str], columns: int = 80, rows: int = 24) -> str:
    """What ``command`` prints to a pseudo-terminal of ``columns`` x ``rows``, as a student's terminal shows it."""
    import fcntl
    import os
    import pty
    import struct
    import termios

    pid, fd = pty.fork()
    if pid == 0:  # the child: its stdout is the terminal
        os.execvpe(command[0], command, {**os.environ, "COLUMNS": str(columns), "TERM": "xterm"})
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
    out = b""
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    os.waitpid(pid, 0)
    return out.decode("utf-8", "replace").replace("\r\n", "\n")


def test_a_failed_check_shows_its_timeline_in_an_80_column_terminal(broken_graded, tmp_path):
    """serial_join joins each process before starting the next: the picture must show it, within 80 columns."""
    import json
    import sys

    _, report = broken_graded.result("serial_join")
    saved = tmp_path / "report.json"
    saved.write_text(json.dumps({k: v for k, v in report.items() if not k.startswith("_")}))
    shown = _in_a_terminal([sys.executable, "-m", "mpgrade", "report", "--format", "table", str(saved)])
    lines = shown.splitlines()
    assert max(len(line) for line in lines) <= 80, max(lines, key=len)
    start = next(i for i, line in enumerate(lines) if "Timeline (" in line)
    rows = [line for line in lines[start + 1:start + 6] if line.strip().startswith("worker")]
    assert len(rows) == 3
    bars = [(row.index("#"), row.rindex("#")) for row in rows]
    assert all(left[1] <= right[0] for left, right in zip(bars, bars[1:])), "\n".join(rows)  # never side by side
    assert "No two task runs overlapped" in " ".join(line.strip() for line in lines[start:start + 8])
    check = checks_by_name(report)["test_processes_run_at_the_same_time"]
    assert check["cause"] == "join-in-start-loop"
    assert check["details"]["timeline"]["says"].startswith("No two task runs overlapped")
