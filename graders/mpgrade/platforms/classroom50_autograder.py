#!/usr/bin/env python3
"""Classroom 50 autograder written by ``mpgrade export classroom50``: grade the checkout, write result.json.

Classroom 50's runner calls ``python autograder.py`` with its own Python
(setup-python, 3.14 by default) in which nothing of ours is installed, the
student's checkout as the working directory, and CLASSROOM, ASSIGNMENT,
SUBMISSION_TAG, COMMIT_URL, RELEASE_URL and REVIEW_URL in the environment.
Exit 0 means ``./result.json`` was written, whatever the score; any other
exit is an infrastructure error for the runner. This file uses the standard
library only:

  1. a virtual environment with the kit's dependencies (``mpgrade-kit/requirements.txt``,
     from the package index), outside the checkout (``$RUNNER_TEMP``); reused if it is ready;
  2. ``python -m mpgrade check`` on ``./exercises`` with the kit bundled beside this file
     (``mpgrade-kit/graders``: never the student's copy), run from the bundle so that no
     file of the student's is importable by the grading process, within a time budget;
  3. ``python -m mpgrade report --format classroom50`` -> ``./result.json`` and
     ``--format markdown`` -> ``./release-body.md`` (the release notes and the job summary).
"""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

BUNDLE = Path(__file__).resolve().parent
KIT = BUNDLE / "mpgrade-kit"
SETTINGS = json.loads((KIT / "export.json").read_text(encoding="utf-8"))


def log(message: str) -> None:
    print(f"mpgrade autograder: {message}", flush=True)


def environment_python() -> Path:
    """The Python of a virtual environment holding the kit's dependencies (made once per runner)."""
    requirements = KIT / "requirements.txt"
    key = hashlib.sha256(requirements.read_bytes() + sys.version.encode()).hexdigest()[:12]
    root = Path(os.environ.get("RUNNER_TEMP") or tempfile.gettempdir()) / f"mpgrade-venv-{key}"
    python = root / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    ready = root / ".mpgrade-ready"
    if not ready.exists():
        log(f"installing the kit's dependencies into {root}")
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(root)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--disable-pip-version-check", "-q",
                        "-r", str(requirements)], check=True)
        ready.write_text("ok\n", encoding="utf-8")
    return python


def main() -> int:
    checkout = Path.cwd()
    result_path, body_path = checkout / "result.json", checkout / "release-body.md"
    try:
        python = environment_python()
    except (OSError, subprocess.CalledProcessError) as problem:
        log(f"could not install the kit's dependencies: {problem}")
        return 1
    exercises = checkout / "exercises" if (checkout / "exercises").is_dir() else checkout
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "PYTEST_"))}
    env["PYTHONPATH"] = str(KIT / "graders")
    scratch = Path(tempfile.mkdtemp(prefix="mpgrade-c50-"))
    report = scratch / "report.json"

    def mpgrade(*arguments: str) -> int:
        return subprocess.run([str(python), "-m", "mpgrade", *arguments], cwd=KIT, env=env,
                              stdin=subprocess.DEVNULL).returncode

    graded = mpgrade("check", *SETTINGS["exercises"], "--submission", str(exercises), "--report", str(report),
                     "--budget", str(SETTINGS["budget_s"]))
    if graded not in (0, 1) or not report.is_file():
        log(f"grading did not produce a report (mpgrade exit code {graded})")
        return 1
    if mpgrade("report", "--format", "classroom50", str(report), "--out", str(result_path)) != 0:
        return 1
    mpgrade("report", "--format", "markdown", str(report), "--out", str(body_path))
    log(f"wrote {result_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
