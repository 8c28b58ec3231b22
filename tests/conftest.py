"""Shared fixtures for the kit's own tests."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import jsonschema
import psutil
import pytest

from mpgrade.sandbox import template

pytest_plugins = "pytester"

KIT_ROOT = Path(__file__).resolve().parent.parent
SUBMISSIONS = Path(__file__).resolve().parent / "submissions"


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


def grade_cli(submission: Path, tmp_path: Path, *args: str, timeout: float = 600) -> tuple:
    """Run ``mpgrade check`` as a user would; return (completed process, report v1 checked against its schema).

    The report carries ``_elapsed``: the seconds the whole command took.
    """
    from mpgrade.report import SCHEMA_FILE

    report_path = tmp_path / "report.json"
    began = time.monotonic()
    completed = subprocess.run(
        [sys.executable, "-m", "mpgrade", "check", "--submission", str(submission),
         "--report", str(report_path), *args],
        capture_output=True, text=True, timeout=timeout, cwd=tmp_path)
    report = json.loads(report_path.read_text())
    jsonschema.validate(report, json.loads(SCHEMA_FILE.read_text()))
    report["_elapsed"] = time.monotonic() - began
    return completed, report
