"""Gradescope's ``results.json``: score, execution_time, output, tests[] (one per check).

The top-level ``output`` is Markdown (``output_format: md``): the student's
feedback with a table of every check. Each test's ``output`` is the check's
plain-text feedback (``test_output_format: text``), which quotes code that
Markdown would mangle (``__main__``).
"""
from __future__ import annotations

from typing import Any

from mpgrade.reporters import markdown


def results(report: dict[str, Any], execution_time: float) -> dict[str, Any]:
    """The results object; hidden checks are shown only after grades are published."""
    tests = []
    number = 0
    for name, data in report["exercises"].items():
        for check in data["checks"]:
            if check["status"] == "skipped":
                continue
            number += 1
            tests.append({"name": f"{name}: {check['name']}", "number": str(number), "score": check["score"],
                          "max_score": check["max_score"],
                          "status": "passed" if check["status"] == "passed" else "failed",
                          "output": check["feedback"],
                          "visibility": "after_published" if check.get("hidden") else "visible"})
    env = report["environment"]
    note = f"\nStart method {env.get('start_method')}, seed {env.get('seed')}.\n"
    return {"score": report["score"], "execution_time": int(execution_time),
            "output": markdown.feedback(report, visible_only=True) + note, "output_format": "md", "test_output_format": "text",
            "tests": tests}


def failure(message: str, execution_time: float) -> dict[str, Any]:
    """What Gradescope shows when grading could not run at all."""
    return {"score": 0, "execution_time": int(execution_time), "output": message, "output_format": "text",
            "tests": []}
