"""A gradebook Canvas LMS imports (Grades > Import), from graded students (pure functions, text out).

Canvas's importer (``gradebook_importer.rb``) wants a header row that starts
``Student, ID`` and whose student columns end with ``Section``; then one
column per assignment named ``Title`` or ``Title (canvas id)`` (a new title
creates the assignment); a row whose first cell holds ``Points Possible``
sets each assignment's points. Students are matched by Canvas ID, then SIS
User ID, then SIS Login ID, then exact name. An empty cell changes nothing,
so a student whose grading failed is left blank, never given 0.

Student ids here are folder names (often GitHub user names), which Canvas
does not know; a roster (the course's own Canvas gradebook export) maps
each id to its Canvas row when it equals the row's SIS Login ID (or the part
before ``@``), SIS User ID, Canvas ID or name, ignoring case.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Iterable

STUDENT_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")


@dataclass(frozen=True)
class Grade:
    """One student's line in the gradebook."""

    id: str
    """The kit's student id (folder or archive name)."""
    score: float | None
    """Total points, or None when the student could not be graded."""


def read_roster(text: str) -> list[dict[str, str]]:
    """Student rows of a Canvas gradebook export (its "Points Possible" and test-student rows left out)."""
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    if not rows or "Student" not in rows[0] or "ID" not in rows[0]:
        raise ValueError("a Canvas roster is the course's gradebook export: its header starts Student,ID,...")
    return [row for row in rows if row.get("Student") and "Points Possible" not in row["Student"]
            and row["Student"].strip() != "Student, Test"]


def _keys(row: dict[str, str]) -> set[str]:
    login = (row.get("SIS Login ID") or "").strip()
    values = {login, login.split("@")[0], row.get("SIS User ID") or "", row.get("ID") or "", row.get("Student") or ""}
    return {value.strip().casefold() for value in values if value and value.strip()}


def match(grades: Iterable[Grade], roster: list[dict[str, str]] | None) -> tuple[list[tuple[Grade, dict[str, str]]], list[str]]:
    """Each grade with its Canvas columns; and the ids a roster was given but did not hold."""
    matched, missing = [], []
    index: dict[str, dict[str, str]] = {}
    for row in roster or []:
        for key in _keys(row):
            index.setdefault(key, row)
    for grade in grades:
        row = index.get(grade.id.casefold())
        if row is None:
            if roster is not None:
                missing.append(grade.id)
            row = {"Student": grade.id, "SIS Login ID": grade.id}
        matched.append((grade, {column: row.get(column, "") for column in STUDENT_COLUMNS}))
    return matched, missing


def gradebook(grades: Iterable[Grade], assignment: str, points_possible: float,
              roster: list[dict[str, str]] | None = None) -> tuple[str, list[str]]:
    """The CSV text to import, and the student ids the roster did not hold."""
    matched, missing = match(grades, roster)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([*STUDENT_COLUMNS, assignment])
    writer.writerow(["    Points Possible", "", "", "", "", f"{points_possible:g}"])
    for grade, columns in matched:
        writer.writerow([*columns.values(), "" if grade.score is None else f"{grade.score:g}"])
    return buffer.getvalue(), missing
