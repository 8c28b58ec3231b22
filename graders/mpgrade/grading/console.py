"""Readable tables from a report v1 (trusted side; pure functions, text in, text out)."""
from __future__ import annotations

import textwrap
from typing import Any

from mpgrade.reporters import timeline

MARKS = {"passed": "PASS", "failed": "FAIL", "error": "ERROR", "skipped": "SKIP"}
WIDTH = 78


def _points(score: float, max_score: float) -> str:
    return f"{score:g}/{max_score:g}"


def exercise_totals(report: dict[str, Any]) -> list[str]:
    """One line per exercise (points, checks passed) and a total line."""
    lines = []
    width = max([len(name) for name in report["exercises"]] + [5])
    for name, exercise in report["exercises"].items():
        checks = exercise["checks"]
        passed = sum(c["status"] == "passed" for c in checks)
        lines.append(f"{name:<{width}}  {_points(exercise['score'], exercise['max_score']):>9}"
                     f"   {passed}/{len(checks)} checks passed")
    lines.append(f"{'Total':<{width}}  {_points(report['score'], report['max_score']):>9}")
    return lines


def render(report: dict[str, Any], verbose: bool = False) -> str:
    """Every exercise with its checks; failed checks show their feedback and the timeline of their call (with
    ``verbose``, passed checks show their timeline too)."""
    env = report.get("environment", {})
    out = [f"mpgrade check: {report['submission']}",
           f"start method {env.get('start_method')}, {env.get('usable_cpus')} usable CPUs, "
           f"Python {env.get('python')}, seed {env.get('seed')}", ""]
    for name, exercise in report["exercises"].items():
        out.append(f"{name}  {_points(exercise['score'], exercise['max_score'])}")  # a name fits: exNN_word
        for check in exercise["checks"]:
            points = _points(check["score"], check["max_score"])
            head = f"  {MARKS.get(check['status'], check['status']):<5} {points:>7}  "
            out.extend(textwrap.wrap(check["name"], WIDTH, initial_indent=head, subsequent_indent=" " * len(head),
                                     break_on_hyphens=False) or [head.rstrip()])
            if check["status"] != "passed" and check["feedback"]:
                for paragraph in check["feedback"].splitlines():
                    wrapped = textwrap.wrap(paragraph, WIDTH - 16, break_on_hyphens=False) or [""]
                    out.extend(" " * 16 + line.rstrip() for line in wrapped)
            drawn = (check.get("details") or {}).get("timeline")
            if drawn and (check["status"] != "passed" or verbose):
                out.extend(" " * 2 + line for line in timeline.text(drawn))
        out.append("")
    out.append(f"Total  {_points(report['score'], report['max_score'])}")
    return "\n".join(out)
