"""Classroom 50's ``result.json`` (``classroom50/result/v1``) and its release notes.

The contract (Classroom 50's wiki, "Advanced Autograding", and the checks in
its ``runner.py`` and ``collect_scores.py``): ``schema`` exactly
``classroom50/result/v1``; ``classroom`` and ``assignment`` equal to the
runner's ``CLASSROOM`` and ``ASSIGNMENT``; ``submission`` a ``submit/...``
tag (``SUBMISSION_TAG``); ``commit``, ``release``, ``review``, ``datetime``
non-empty strings (``COMMIT_URL``, ``RELEASE_URL``, ``REVIEW_URL``); ``score``
and ``max-score`` non-negative integers, score <= max-score; ``tests[]`` with
``test-name``, boolean ``passed``, integer ``score`` and ``max-score``. Extra
fields on a test are kept verbatim: each carries its ``feedback``. The runner
stamps ``owner``, ``assignment_type`` and ``datetime`` itself.

Scores must be integers: partial credit is turned into whole points by
``points.whole_points``, so the tests add up to the kit's total rounded once.
"""
from __future__ import annotations

import os
from datetime import datetime, timezone
from typing import Any

from mpgrade.reporters import markdown
from mpgrade.reporters.points import max_points, whole_points

SCHEMA = "classroom50/result/v1"
IDENTITY = {"classroom": "CLASSROOM", "assignment": "ASSIGNMENT", "submission": "SUBMISSION_TAG",
            "commit": "COMMIT_URL", "release": "RELEASE_URL", "review": "REVIEW_URL"}
"""Each identity field of result.json and the runner's environment variable it comes from."""


def identity(environ: dict[str, str] | None = None) -> dict[str, str | None]:
    """classroom, assignment, submission, commit, release, review from the runner's environment.

    ``review`` falls back to the commit's URL (as Classroom 50's own templates do);
    a field whose variable is not set is None, which the runner rejects: only
    Classroom 50's runner can say who and what is being graded.
    """
    env = os.environ if environ is None else environ
    found = {field: env.get(variable) or None for field, variable in IDENTITY.items()}
    found["review"] = found["review"] or found["commit"]
    return found


def result(report: dict[str, Any], environ: dict[str, str] | None = None) -> dict[str, Any]:
    """The result document for one graded submission."""
    checks = [(name, check) for name, data in report["exercises"].items() for check in data["checks"]
              if check["status"] != "skipped"]
    scores = whole_points([check for _, check in checks])
    tests = [{"test-name": f"{name}: {check['name']}", "passed": check["status"] == "passed",
              "score": score, "max-score": max_points(check), "feedback": check["feedback"]}
             for (name, check), score in zip(checks, scores)]
    return {"schema": SCHEMA, **identity(environ),
            "datetime": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "score": sum(scores), "max-score": sum(t["max-score"] for t in tests), "tests": tests}


def release_body(report: dict[str, Any]) -> str:
    """``release-body.md``: the notes of the submission's release and the job summary."""
    return markdown.feedback(report)
