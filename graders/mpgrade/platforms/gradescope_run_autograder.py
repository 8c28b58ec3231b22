#!/usr/bin/env python3
"""Gradescope: grade /autograder/submission with mpgrade, write /autograder/results/results.json.

Gradescope starts this with the image's python3; the kit and its dependencies
are in setup.sh's virtual environment, which this switches to first. A
results.json is written whatever happens: if the kit cannot be imported or
grading fails, it holds score 0 and the reason (standard library only here).
"""
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(os.environ.get("MPGRADE_AUTOGRADER_ROOT", "/autograder"))
VENV_PYTHON = ROOT / "venv" / "bin" / "python"
RESULTS = ROOT / "results" / "results.json"


def write(results: dict) -> None:
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


def failure(message: str, began: float) -> dict:
    return {"score": 0, "execution_time": int(time.time() - began), "output_format": "text", "tests": [],
            "output": f"The autograder could not grade this submission: {message}\n"
                      "Your code was not judged: please tell your instructor."}


def main() -> None:
    began = time.time()
    try:
        from mpgrade.grading.command import grade
        from mpgrade.batch.intake import exercises_folder
        from mpgrade.reporters import gradescope
    except Exception as problem:  # setup.sh failed or the image changed: still a results file
        write(failure(f"the grading kit could not be loaded ({type(problem).__name__}: {problem}).", began))
        return
    try:
        report = grade(exercises_folder(ROOT / "submission"), [], ROOT / "results" / "mpgrade-report.json",
                       timeout_s=float(os.environ.get("MPGRADE_BUDGET_S", "1500")))
        write(gradescope.results(report, time.time() - began))
    except Exception as problem:
        write(failure(str(problem).strip().splitlines()[-1] if str(problem).strip() else repr(problem), began))


if __name__ == "__main__":
    if VENV_PYTHON.exists() and Path(sys.prefix).resolve() != (ROOT / "venv").resolve():
        os.execv(str(VENV_PYTHON), [str(VENV_PYTHON), os.path.abspath(__file__), *sys.argv[1:]])
    sys.path.insert(0, str(ROOT / "source" / "graders"))
    main()
