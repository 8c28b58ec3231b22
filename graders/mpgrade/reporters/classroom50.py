"""Classroom 50's ``result.json`` (``classroom50/result/v1``).

Identity fields come from the runner's environment: ``CLASSROOM50_*``
variables when set, else what GitHub Actions provides.
"""
from __future__ import annotations

import os
from datetime import datetime, timezone
from typing import Any

SCHEMA = "classroom50/result/v1"


def identity(environ: dict[str, str] | None = None) -> dict[str, str | None]:
    """classroom, assignment, submission, commit, release, review from the environment."""
    env = os.environ if environ is None else environ
    repository = env.get("GITHUB_REPOSITORY", "")
    owner, _, name = repository.partition("/")
    return {
        "classroom": env.get("CLASSROOM50_CLASSROOM") or owner or None,
        "assignment": env.get("CLASSROOM50_ASSIGNMENT") or name or None,
        "submission": env.get("CLASSROOM50_SUBMISSION") or repository or None,
        "commit": env.get("CLASSROOM50_COMMIT") or env.get("GITHUB_SHA") or None,
        "release": env.get("CLASSROOM50_RELEASE") or env.get("GITHUB_REF_NAME") or None,
        "review": env.get("CLASSROOM50_REVIEW") or None,
    }


def result(report: dict[str, Any], environ: dict[str, str] | None = None) -> dict[str, Any]:
    """The result document for one graded submission."""
    tests = [{"test-name": f"{name}: {check['name']}", "passed": check["status"] == "passed",
              "score": check["score"], "max-score": check["max_score"]}
             for name, data in report["exercises"].items() for check in data["checks"] if check["status"] != "skipped"]
    return {"schema": SCHEMA, **identity(environ),
            "datetime": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "score": report["score"], "max-score": report["max_score"], "tests": tests}
