"""Gradescope's ``results.json``: score, execution_time, output, tests[] (one per check)."""
from __future__ import annotations

from typing import Any


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
    return {"score": report["score"], "execution_time": int(execution_time),
            "output": f"mpgrade: {report['score']:g} / {report['max_score']:g} "
                      f"(start method {report['environment'].get('start_method')}, "
                      f"seed {report['environment'].get('seed')})", "tests": tests}


def failure(message: str, execution_time: float) -> dict[str, Any]:
    """What Gradescope shows when grading could not run at all."""
    return {"score": 0, "execution_time": int(execution_time), "output": message, "tests": []}
