"""GitHub Classroom's autograding reporter: the ``result`` payload of one runner.

``classroom-resources/autograding-grading-reporter@v1`` reads, for each id in
its ``runners`` input, the variable ``<ID>_RESULTS``: base64 of JSON with
``version``, ``status`` (pass/fail/error), ``max_score`` and ``tests[]``
(``name``, ``status``, ``score``, ``message``, ``line_no``, ``duration``).
Its "Points" total adds up ``tests[].score`` over runners whose ``max_score``
is not 0, so one test per check carries partial credit per check; it fails
the job when a runner's ``status`` is ``fail`` or ``error``. Runner ids are
the exercises' short names (``ex01``): the reporter accepts letters and
digits only.
"""
from __future__ import annotations

import base64
import json
from typing import Any

STATUS = {"passed": "pass", "failed": "fail", "error": "error", "skipped": "pass"}


def runner_id(exercise: str) -> str:
    """``ex01_processes`` -> ``ex01``: the step output name and the reporter's runner id."""
    return exercise.split("_")[0]


def payload(report: dict[str, Any], exercise: str | None = None) -> dict[str, Any]:
    """The reporter's result object for one exercise (or all of them)."""
    exercises = {k: v for k, v in report["exercises"].items() if exercise in (None, k)}
    tests = []
    for name, data in exercises.items():
        for check in data["checks"]:
            if check["status"] == "skipped":
                continue
            tests.append({"name": f"{name}: {check['name']}", "status": STATUS[check["status"]],
                          "score": check["score"], "message": check["feedback"], "line_no": 0,
                          "duration": int(check["duration_s"] * 1000), "max_score": check["max_score"]})
    statuses = {t["status"] for t in tests}
    status = "error" if "error" in statuses else "fail" if "fail" in statuses else "pass"
    return {"version": 1, "status": status, "max_score": sum(e["max_score"] for e in exercises.values()),
            "tests": tests}


def error_payload(exercise: str, message: str, max_score: float) -> dict[str, Any]:
    """What the reporter gets for an exercise that could not be graded: an error worth 0 of ``max_score``."""
    return {"version": 1, "status": "error", "max_score": max_score,
            "tests": [{"name": f"{exercise}: grading", "status": "error", "score": 0, "message": message,
                       "line_no": 0, "duration": 0, "max_score": max_score}]}


def encode(data: dict[str, Any]) -> str:
    """A payload as the one-line base64 text a step puts in an output."""
    return base64.b64encode(json.dumps(data).encode()).decode("ascii")


def encoded(report: dict[str, Any], exercise: str | None = None) -> str:
    """``payload`` as the base64 text a workflow step puts in its ``result`` output."""
    return encode(payload(report, exercise))


def step_outputs(report: dict[str, Any]) -> str:
    """``$GITHUB_OUTPUT`` lines: one ``<runner id>=<payload>`` per exercise of ``report``."""
    return "".join(f"{runner_id(name)}={encoded(report, name)}\n" for name in report["exercises"])


def error_outputs(exercises: dict[str, float], message: str) -> str:
    """``$GITHUB_OUTPUT`` lines when grading produced no report: an error payload per exercise (name: max score)."""
    return "".join(f"{runner_id(name)}={encode(error_payload(name, message, points))}\n"
                   for name, points in exercises.items())
