"""The class report: one self-contained HTML file (trusted side; a pure function of the gradebook data).

Distribution of totals (an inline SVG histogram), per-exercise full-marks
rates, what the class got wrong (the most common causes, each with how many
students, where, and one example of the feedback with its timeline), the
most failed checks, speedup figures per student, links to each student's
feedback, and what a merge found (students not graded yet, speedups judged
on other machines). No scripts, no external files: it opens from a results
folder or an e-mail.
"""
from __future__ import annotations

import html
from typing import Any

from mpgrade.reporters import timeline

STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem;color:#222;max-width:70rem}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.25rem .6rem;text-align:right}
th{background:#f2f2f2}td.id,th.id{text-align:left}.error{color:#a00}.bar{fill:#3b6ea5}
.rate{display:inline-block;height:.8rem;background:#3b6ea5;vertical-align:middle}
td.text{text-align:left;max-width:40rem;min-width:24rem}td.what{text-align:left;min-width:12rem}pre{white-space:pre-wrap;font-size:.8rem;background:#f7f7f7;padding:.5rem}
"""


def _histogram(totals: list[float], max_score: float, bins: int = 10) -> str:
    if not totals or max_score <= 0:
        return "<p>No graded submissions.</p>"
    counts = [0] * bins
    for total in totals:
        counts[min(bins - 1, int(total / max_score * bins))] += 1
    width, height, top = 40, 150, max(counts)
    bars = []
    for index, count in enumerate(counts):
        bar = height * count / top if top else 0
        low, high = max_score * index / bins, max_score * (index + 1) / bins
        bars.append(f'<rect class="bar" x="{index * width + 30}" y="{height - bar + 20}" width="{width - 4}" '
                    f'height="{bar}"><title>{low:g}-{high:g}: {count}</title></rect>'
                    f'<text x="{index * width + 48}" y="{height + 35}" font-size="10" text-anchor="middle">{low:g}</text>'
                    f'<text x="{index * width + 48}" y="{height - bar + 15}" font-size="10" text-anchor="middle">'
                    f'{count or ""}</text>')
    return (f'<svg role="img" aria-label="distribution of totals" width="{bins * width + 40}" height="{height + 45}">'
            + "".join(bars) + "</svg>")


def _provenance(summary: dict[str, Any]) -> list[str]:
    """Students with no grade yet, and speedups judged on another kind of machine than most."""
    parts = []
    missing = summary.get("missing") or {}
    if missing:
        parts.append(f"<h2 class='error'>Not graded yet ({len(missing)})</h2><ul>"
                     + "".join(f"<li>{html.escape(student)}: {html.escape(reason)}</li>"
                               for student, reason in missing.items()) + "</ul>")
    flagged = summary.get("speedup_on_other_machine") or []
    if flagged:
        machines = "".join(f"<tr><td class='id'>{html.escape(item['machine'])}</td><td>{item['students']}</td></tr>"
                           for item in summary.get("speedup_machines") or [])
        parts.append("<h2 class='error'>Speedups judged on different machines</h2>"
                     f"<p>The speedup of {', '.join(html.escape(s) for s in flagged)} was judged on another kind of "
                     "machine than most of the class; regrade them on one kind (<code>mpgrade grade --only</code>)."
                     "</p><table><tr><th class='id'>machine</th><th>students</th></tr>" + machines + "</table>")
    return parts


def speedups(graded_report: dict[str, Any]) -> list[tuple[float, float]]:
    """(student's, engine's) speedup of every speedup check that measured one (``details.decision``)."""
    found = []
    for exercise in graded_report["exercises"].values():
        for check in exercise["checks"]:
            decision = (check.get("details") or {}).get("decision") or {}
            if decision.get("student_speedup") and decision.get("engine_speedup"):
                found.append((float(decision["student_speedup"]), float(decision["engine_speedup"])))
    return found


def _causes(summary: dict[str, Any]) -> list[str]:
    """The class's most common causes, each with one example of the feedback and its timeline."""
    common = summary.get("common_causes") or []
    if not common:
        return []
    parts = ["<h2>What the class got wrong</h2><table><tr><th>students</th><th class='id'>what they did</th>"
             "<th class='id'>where</th><th class='id'>one student's feedback (name taken out)</th></tr>"]
    for item in common:
        example = item.get("example") or {}
        where = ", ".join(f"{html.escape(name)} ({count})" for name, count in item["exercises"].items())
        picture = timeline.svg(example["timeline"]) if example.get("timeline") else ""
        parts.append(f"<tr><td>{item['students']}</td><td class='what'>{html.escape(item['title'])}"
                     f"<br><code>{html.escape(item['cause'])}</code></td><td class='id'>{where}</td>"
                     f"<td class='text'><details open><summary>{html.escape(example.get('check', ''))}</summary>"
                     f"<pre>{html.escape(example.get('feedback', ''))}</pre>{picture}</details></td></tr>")
    parts.append("</table>")
    return parts


def _failed_checks(summary: dict[str, Any]) -> list[str]:
    failed = summary.get("most_failed_checks") or []
    if not failed:
        return []
    return (["<h2>Most failed checks</h2><table><tr><th>students</th><th class='id'>check</th></tr>"]
            + [f"<tr><td>{item['students']}</td><td class='id'>{html.escape(item['check'])}</td></tr>"
               for item in failed] + ["</table>"])


def render(rows: list[dict[str, Any]], summary: dict[str, Any]) -> str:
    """The HTML page. ``rows`` are the gradebook rows: status record, report v1 or None, feedback link."""
    graded = [row for row in rows if row["report"]]
    max_score = max((row["report"]["max_score"] for row in graded), default=0)
    exercises = sorted({name for row in graded for name in row["report"]["exercises"]})
    parts = [f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Class report</title>"
             f"<style>{STYLE}</style></head><body>",
             "<h1>Class report</h1>",
             f"<p>{summary['students']} students, {summary['graded']} graded, {summary['errors']} not gradable. "
             f"Mean {summary['mean']}, median {summary['median']} of {max_score:g}.</p>",
             *_provenance(summary),
             "<h2>Distribution of totals</h2>", _histogram([r["report"]["score"] for r in graded], max_score),
             "<h2>Full marks per exercise</h2><table><tr><th class='id'>exercise</th><th>students</th><th></th></tr>"]
    for name in exercises:
        rate = summary["pass_rates"].get(name) or 0.0
        parts.append(f"<tr><td class='id'>{html.escape(name)}</td><td>{rate:.0%}</td>"
                     f"<td class='id'><span class='rate' style='width:{rate * 10:.1f}rem'></span></td></tr>")
    parts.append("</table>")
    parts += _causes(summary) + _failed_checks(summary)
    parts.append("<h2>Students</h2><table><tr><th class='id'>student</th><th>total</th>"
                 + "".join(f"<th>{html.escape(name.split('_')[0])}</th>" for name in exercises)
                 + "<th>speedup</th><th class='id'>feedback</th></tr>")
    for row in rows:
        status, graded_report = row["status"], row["report"]
        name = html.escape(status["id"])
        if graded_report is None:
            parts.append(f"<tr><td class='id'>{name}</td><td class='error' colspan='{len(exercises) + 2}'>"
                         f"{html.escape(status.get('reason', 'error'))}</td><td></td></tr>")
            continue
        cells = "".join(f"<td>{graded_report['exercises'].get(e, {}).get('score', '')}</td>" for e in exercises)
        speed = "; ".join(f"{mine:.2f}x of {engine:.2f}x" for mine, engine in speedups(graded_report))
        link = html.escape(row["feedback_link"])
        parts.append(f"<tr><td class='id'>{name}</td><td>{graded_report['score']:g}</td>{cells}<td>{speed}</td>"
                     f"<td class='id'><a href='{link}'>feedback</a></td></tr>")
    parts.append("</table></body></html>\n")
    return "".join(parts)
