"""Shared fixtures for the kit's own tests."""
from __future__ import annotations

import os
import textwrap
import uuid
from pathlib import Path

import psutil
import pytest

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
        return found

    yield alive
    for proc in alive():  # never leave a test's processes behind, even when it failed
        try:
            proc.kill()
        except psutil.Error:
            pass
