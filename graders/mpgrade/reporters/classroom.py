"""GitHub Classroom's autograding reporter: the ``result`` payload of one runner.

The reporter action reads ``<RUNNER_ID>_RESULTS``: base64 of JSON with
``version``, ``status`` (pass/fail/error), ``max_score`` and ``tests[]``
(``name``, ``status``, ``score``, ``message``, ``line_no``, ``duration``).
One test per check carries partial credit per check to the gradebook.
"""
from __future__ import annotations

import base64
import json
from typing import Any

STATUS = {"passed": "pass", "failed": "fail", "error": "error", "skipped": "pass"}


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


def encoded(report: dict[str, Any], exercise: str | None = None) -> str:
    """``payload`` as the base64 text a workflow step puts in its ``result`` output."""
    return base64.b64encode(json.dumps(payload(report, exercise)).encode()).decode("ascii")


def step_summary(report: dict[str, Any]) -> str:
    """A Markdown table of every check, for ``$GITHUB_STEP_SUMMARY``."""
    lines = [f"### mpgrade: {report['score']:g} / {report['max_score']:g}", "",
             "| exercise | check | status | points |", "|---|---|---|---|"]
    for name, data in report["exercises"].items():
        for check in data["checks"]:
            lines.append(f"| {name} | {check['name']} | {check['status']} | {check['score']:g}/{check['max_score']:g} |")
    return "\n".join(lines) + "\n"
