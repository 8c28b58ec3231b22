"""A timeline (report v1's ``details.timeline``) drawn for people: text for a terminal, SVG for a page.

Pure functions of the data :mod:`mpgrade.verdicts.timeline` builds. The text
fits 80 columns (``mpgrade check``); the SVG (``feedback.md``, the class
report) gives every bar a ``title`` (its text alternative) and uses hatching
and outlines, not colour, so it reads in grey and to a screen reader.
"""
from __future__ import annotations

import html
import textwrap

LABEL_WIDTH = 10
BAR_WIDTH = 62
"""Text: 2 + label + 2 + bar columns = 76, within 80 with the feedback's indent."""


def text(timeline: dict, width: int = BAR_WIDTH) -> list[str]:
    """The timeline as lines of at most 76 columns (80 with a caller's indent): one row per process, ``#`` where a task ran, ``.`` where
    the process was alive, ``|`` at its start and end."""
    seconds = timeline["seconds"]
    step = seconds / width

    def column(moment: float) -> int:
        return max(0, min(width - 1, int(moment / step)))

    lines = [f"  Timeline ({seconds:.2f} s; # a task running, . alive, one column = {step * 1000:.0f} ms):"]
    for lane in timeline["lanes"]:
        row = [" "] * width
        if lane["start"] is not None:
            end = lane["end"] if lane["end"] is not None else seconds
            for index in range(column(lane["start"]), column(end) + 1):
                row[index] = "."
        for run in lane["runs"]:
            end = run["end"] if run["end"] is not None else seconds
            for index in range(column(run["start"]), column(end) + 1):
                row[index] = "#"
        if lane["start"] is not None and lane["role"] != "caller":
            row[column(lane["start"])] = "|" if row[column(lane["start"])] == "." else row[column(lane["start"])]
        lines.append(f"  {lane['name'][:LABEL_WIDTH]:<{LABEL_WIDTH}}  {''.join(row)}".rstrip())
    if timeline.get("says"):
        lines += textwrap.wrap(timeline["says"], 76, initial_indent="  ", subsequent_indent="  ")
    return lines


def svg(timeline: dict, width: int = 640) -> str:
    """The timeline as inline SVG: a row per process, a hatched bar per task run with a ``title`` (its text
    alternative), the process's life as a thin outlined bar; readable without colour."""
    seconds = timeline["seconds"]
    left, row_h, top = 90, 26, 8
    scale = (width - left - 10) / seconds
    height = top + row_h * len(timeline["lanes"]) + 24
    says = timeline.get("says") or "Who ran which task when."
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" '
             f'style="max-width:100%;height:auto" '
             f'viewBox="0 0 {width} {height}" aria-label="{html.escape(says, quote=True)}">',
             f"<title>{html.escape(says)}</title>",
             '<defs><pattern id="run" width="6" height="6" patternUnits="userSpaceOnUse" '
             'patternTransform="rotate(45)"><rect width="6" height="6" fill="#fff"/>'
             '<line x1="0" y1="0" x2="0" y2="6" stroke="#000" stroke-width="3"/></pattern></defs>']
    for index, lane in enumerate(timeline["lanes"]):
        y = top + index * row_h
        parts.append(f'<text x="4" y="{y + 16}" font-size="12" font-family="sans-serif">'
                     f"{html.escape(lane['name'])}</text>")
        if lane["start"] is not None:
            end = lane["end"] if lane["end"] is not None else seconds
            parts.append(f'<rect x="{left + lane["start"] * scale:.1f}" y="{y + 9}" '
                         f'width="{max(1.0, (end - lane["start"]) * scale):.1f}" height="6" fill="none" '
                         f'stroke="#000" stroke-width="1"><title>{html.escape(lane["name"])} alive from '
                         f'{lane["start"]:.2f} s to {end:.2f} s</title></rect>')
        for run in lane["runs"]:
            end = run["end"] if run["end"] is not None else seconds
            label = f"{lane['name']}: {run['label']} from {run['start']:.2f} s to {end:.2f} s"
            parts.append(f'<rect x="{left + run["start"] * scale:.1f}" y="{y + 3}" '
                         f'width="{max(2.0, (end - run["start"]) * scale):.1f}" height="18" fill="url(#run)" '
                         f'stroke="#000" stroke-width="1" aria-label="{html.escape(label, quote=True)}">'
                         f"<title>{html.escape(label)}</title></rect>")
    axis_y = top + row_h * len(timeline["lanes"]) + 14
    parts.append(f'<text x="{left}" y="{axis_y}" font-size="11" font-family="sans-serif">0 s</text>'
                 f'<text x="{width - 10}" y="{axis_y}" font-size="11" font-family="sans-serif" '
                 f'text-anchor="end">{seconds:.2f} s</text></svg>')
    return "".join(parts)
