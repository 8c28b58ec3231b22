"""A student's feedback as Markdown, from a report v1 (pure function, text out).

One text serves every place a student reads Markdown: the batch's
``feedback.md``, GitHub Actions' job summary, the release notes of a
Classroom 50 submission and Gradescope's top-level output. Feedback is
plain text written for a terminal (it quotes code such as
``if __name__ == "__main__":``), so it goes into fenced blocks, where
Markdown renders it as it is.
"""
from __future__ import annotations

import re
from typing import Any

from mpgrade.reporters import timeline

MARK = {"passed": "✅", "failed": "❌", "error": "⚠️", "skipped": "➖"}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _fenced(text: str) -> list[str]:
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return [fence + "text", text, fence]


def _shown(report: dict[str, Any], visible_only: bool) -> dict[str, list[dict[str, Any]]]:
    return {name: [c for c in exercise["checks"] if not (visible_only and c.get("hidden"))]
            for name, exercise in report["exercises"].items()}


def feedback(report: dict[str, Any], title: str = "mpgrade", visible_only: bool = False,
             pictures: bool = False) -> str:
    """Total, one table row per check, then the feedback of every check that did not pass, with the timeline
    of its call as text.

    ``visible_only`` leaves out hidden checks (and so their points) for places
    a student sees before grades are published. ``pictures`` adds each timeline as inline SVG too, for a
    file opened in an editor or browser (GitHub's and Gradescope's Markdown strip SVG).
    """
    shown = _shown(report, visible_only)
    score = sum(c["score"] for checks in shown.values() for c in checks if c["status"] != "skipped")
    most = sum(c["max_score"] for checks in shown.values() for c in checks if c["status"] != "skipped")
    hidden = sum(len(e["checks"]) for e in report["exercises"].values()) - sum(map(len, shown.values()))
    lines = [f"## {title}: {score:g} / {most:g}" + (" in the checks you can see" if hidden else ""), "",
             "| exercise | check | result | points |", "|---|---|---|---|"]
    for name, checks in shown.items():
        for check in checks:
            lines.append(f"| {name} | {_cell(check['name'])} | {MARK.get(check['status'], '')} {check['status']} "
                         f"| {check['score']:g} / {check['max_score']:g} |")
    for name, checks in shown.items():
        failing = [c for c in checks if c["status"] in ("failed", "error")]
        if not failing:
            continue
        lines += ["", f"### {name}"]
        for check in failing:
            lines += ["", f"**{check['name']}** ({check['score']:g} / {check['max_score']:g})", ""]
            lines += _fenced(check["feedback"] or "(no feedback)")
            drawn = (check.get("details") or {}).get("timeline")
            if drawn:
                lines += ["", *_fenced("\n".join(line[2:] for line in timeline.text(drawn)))]
                if pictures:
                    lines += ["", timeline.svg(drawn)]
    return "\n".join(lines) + "\n"
