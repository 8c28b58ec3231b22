"""Shared fixtures for the kit's own tests."""
from __future__ import annotations

import atexit
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from pathlib import Path

import jsonschema
import psutil
import pytest

from mpgrade.course.parts import materialize
from mpgrade.sandbox import template

pytest_plugins = "pytester"

KIT_ROOT = Path(__file__).resolve().parent.parent
SUBMISSIONS = Path(__file__).resolve().parent / "submissions"
_COMPOSED = Path(tempfile.mkdtemp(prefix="mpgrade-composed-"))
atexit.register(shutil.rmtree, _COMPOSED, True)


def whole(folder: Path) -> Path:
    """The folder a student would hand in for a stored fixture: entries keep only what the student wrote (a
    ``.part.py``), composed here with the exercise's solution (``mpgrade.course.parts``)."""
    return materialize(folder, _COMPOSED)


@pytest.fixture(autouse=True)
def private_cpu_lock(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """The kit's tests neither wait for nor block real grading on this machine (the CPU lock is machine-wide)."""
    monkeypatch.setenv("MPGRADE_LOCK_DIR", str(tmp_path_factory.mktemp("locks")))


@pytest.fixture
def write_module(tmp_path: Path):
    """Write a student module into a fresh submission folder; return the folder."""
    folder = tmp_path / "submission"
    folder.mkdir()

    def write(name: str, source: str) -> Path:
        (folder / f"{name}.py").write_text(textwrap.dedent(source), encoding="utf-8")
        return folder

    return write


@pytest.fixture
def leftovers(monkeypatch: pytest.MonkeyPatch):
    """Mark every process started from here on; return a function listing the marked ones still alive.

    The mark is an environment variable, which the sandbox passes on and
    every child, grandchild and setsid'd daemon inherits.
    """
    mark = uuid.uuid4().hex
    monkeypatch.setenv("LEFTOVER_MARK", mark)

    def alive() -> list[psutil.Process]:
        found = []
        for proc in psutil.process_iter():
            try:
                if proc.pid == os.getpid() or proc.status() == psutil.STATUS_ZOMBIE:
                    continue
                if proc.environ().get("LEFTOVER_MARK") == mark:
                    found.append(proc)
            except psutil.Error:
                continue
        # Supervisors forked from the template carry the template's (empty) environment, not the mark; between
        # calls the template has no child at all.
        if (template_pid := template.shared().pid) is not None:
            try:
                found += [proc for proc in psutil.Process(template_pid).children(recursive=True)
                          if proc.status() != psutil.STATUS_ZOMBIE and proc not in found]
            except psutil.Error:
                pass
        return found

    yield alive
    for proc in alive():  # never leave a test's processes behind, even when it failed
        try:
            proc.kill()
        except psutil.Error:
            pass


def grade_cli(submission: Path, tmp_path: Path, *args: str, timeout: float = 600,
              env: dict[str, str] | None = None) -> tuple:
    """Run ``mpgrade check`` as a user would; return (completed process, report v1 checked against its schema).

    The report carries ``_elapsed``: the seconds the whole command took.
    """
    from mpgrade.grading.report import SCHEMA_FILE

    report_path = tmp_path / "report.json"
    began = time.monotonic()
    completed = subprocess.run(
        [sys.executable, "-m", "mpgrade", "check", "--submission", str(submission),
         "--report", str(report_path), *args],
        capture_output=True, text=True, timeout=timeout, cwd=tmp_path, env=env)
    report = json.loads(report_path.read_text())
    jsonschema.validate(report, json.loads(SCHEMA_FILE.read_text()))
    report["_elapsed"] = time.monotonic() - began
    return completed, report


class BackgroundGrading:
    """``mpgrade check`` runs for a parametrised test's cases, a few at once in threads, started when the first of
    them asks (each test then waits for its own): a grading mostly waits for processes to start and end, and the
    checks are built to be right under load. Every process they start carries ``LEFTOVER_MARK`` = ``mark``."""

    AT_ONCE = 3

    def __init__(self, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, test: str,
                 param: str, grade_one) -> None:
        selected = [item.callspec.params[param] for item in request.session.items
                    if getattr(item, "originalname", "") == test]
        self.mark = uuid.uuid4().hex
        env = {**os.environ, "LEFTOVER_MARK": self.mark}
        from concurrent.futures import ThreadPoolExecutor

        self.pool = ThreadPoolExecutor(self.AT_ONCE)
        self.futures = {case: self.pool.submit(grade_one, case, tmp_path_factory.mktemp(str(case)), env)
                        for case in selected}

    def result(self, case):
        return self.futures[case].result(timeout=900)

    def left_alive(self) -> list[psutil.Process]:
        """Once every case is graded: the marked processes still alive (a few tries: templates end after)."""
        for future in self.futures.values():
            future.result(timeout=900)
        found: list[psutil.Process] = []
        for _ in range(50):
            found = []
            for proc in psutil.process_iter():
                try:
                    if proc.status() != psutil.STATUS_ZOMBIE and proc.environ().get("LEFTOVER_MARK") == self.mark:
                        found.append(proc)
                except psutil.Error:
                    continue
            if not found:
                break
            time.sleep(0.1)
        return found

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)
