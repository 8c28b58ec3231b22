"""mpgrade report v1: one JSON document per graded submission (trusted side).

Built from the check records the plugin collects (through pytest-json-report's
hooks) and written atomically, so a reader never sees half a report. The
keys are a contract for other tools; ``schemas/report-v1.json`` states them.

    {"schema": "mpgrade-report/1", "submission": ..., "score": ..., "max_score": ...,
     "environment": {...}, "exercises": {NAME: {"score", "max_score", "checks": [...]}}}

Skipped checks keep their feedback (why) but count in neither score nor max_score.
"""
from __future__ import annotations

import json
import os
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable

SCHEMA = "mpgrade-report/1"
STATUSES = ("passed", "failed", "skipped", "error")
SCHEMA_FILE = Path(__file__).with_name("schemas") / "report-v1.json"


def _num(value: float) -> float | int:
    value = round(float(value), 4)
    return int(value) if value.is_integer() else value


def build(records: Iterable[dict[str, Any]], submission: str, environment: dict[str, Any]) -> dict[str, Any]:
    """The report for ``records`` (one per check, as the plugin makes them)."""
    exercises: dict[str, dict[str, Any]] = {}
    for record in records:
        exercise = exercises.setdefault(record["exercise"], {"score": 0.0, "max_score": 0.0, "checks": []})
        check = {
            "name": record["name"],
            "id": record["id"],
            "status": record["status"],
            "score": _num(record["score"]),
            "max_score": _num(record["max_score"]),
            "feedback": record.get("feedback", ""),
            "duration_s": round(float(record.get("duration_s") or 0.0), 3),
        }
        if record.get("cause"):
            check["cause"] = record["cause"]
        if record.get("details"):
            check["details"] = record["details"]
        if record.get("hidden"):
            check["hidden"] = True
        exercise["checks"].append(check)
        if check["status"] != "skipped":
            exercise["score"] += check["score"]
            exercise["max_score"] += check["max_score"]
    ordered = {}
    for name in sorted(exercises):
        exercise = exercises[name]
        exercise["score"], exercise["max_score"] = _num(exercise["score"]), _num(exercise["max_score"])
        ordered[name] = exercise
    return {
        "schema": SCHEMA,
        "submission": submission,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "score": _num(sum(e["score"] for e in ordered.values())),
        "max_score": _num(sum(e["max_score"] for e in ordered.values())),
        "environment": environment,
        "exercises": ordered,
    }


def write(report: dict[str, Any], path: Path) -> None:
    """Write ``report`` to ``path`` atomically (a temp file in the same folder, then rename)."""
    write_text(path, json.dumps(report, indent=2) + "\n")


def write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically (a temp file in the same folder, then rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def load(path: Path) -> dict[str, Any]:
    """Read a report and check it is one (schema key), raising ValueError if not."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        raise ValueError(f"{path} is not an {SCHEMA} report")
    return data


def all_passed(report: dict[str, Any]) -> bool:
    """True when no check that ran failed or errored."""
    return all(check["status"] in ("passed", "skipped")
               for exercise in report["exercises"].values() for check in exercise["checks"])
