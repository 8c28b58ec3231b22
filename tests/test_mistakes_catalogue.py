"""The catalogue of mistakes: feedback that names the real cause, every time.

Each folder of ``tests/submissions/mistakes/`` is a reference solution with one
realistic mistake (the module) and a small ``expect.json``:

- ``mistake``: the mistake, in one line;
- ``fails``: check -> ``says`` (phrases its feedback must contain) and
  ``never`` (phrases it must not contain: the hints the evidence contradicts);
- ``passes``: checks the mistake must not fail (optional);
- ``timeout_factor`` for entries that hang (optional); ``issue_kind`` ties an
  entry to one of the eight kinds of untrue feedback issue 18 lists.

Only the checks an entry names are graded (``mpgrade.direct.run_check``, one
sandboxed call or a few per check), so the catalogue stays clear of the
speedup check. Student code runs in sandboxes, as in real grading.
"""
from __future__ import annotations

import json
from collections import Counter

import pytest

from conftest import SUBMISSIONS
from mpgrade import curriculum
from mpgrade.direct import run_check

CATALOGUE = SUBMISSIONS / "mistakes"
ENTRIES = sorted(p.name for p in CATALOGUE.iterdir() if (p / "expect.json").is_file())
NEVER_ANYWHERE = ("CheckFailed", "mpgrade/", "The grader itself failed", "Traceback (most recent call last)")
"""Grader internals a student must never see."""


def _expect(entry: str) -> dict:
    return json.loads((CATALOGUE / entry / "expect.json").read_text(encoding="utf-8"))


def test_the_catalogue_covers_every_exercise_and_every_kind_of_the_issue():
    assert len(ENTRIES) >= 60
    per_exercise = Counter(entry[:4] for entry in ENTRIES)
    assert set(per_exercise) == {name[:4] for name in curriculum.names()}, per_exercise
    assert min(per_exercise.values()) >= 5, per_exercise
    kinds = {_expect(entry).get("issue_kind") for entry in ENTRIES}
    assert set(range(1, 9)) <= kinds
    for entry in ENTRIES:
        expect = _expect(entry)
        modules = list((CATALOGUE / entry).glob("ex*.py"))
        assert [m.stem for m in modules] == [next(n for n in curriculum.names() if n[:4] == entry[:4])], entry
        assert expect["mistake"] and expect["fails"], entry
        assert all(wants.get("says") for wants in expect["fails"].values()), entry


@pytest.mark.parametrize("entry", ENTRIES)
def test_a_known_mistake_gets_feedback_that_names_its_cause(entry, leftovers):
    expect = _expect(entry)
    folder = CATALOGUE / entry
    exercise = next(folder.glob("ex*.py")).stem
    factor = float(expect.get("timeout_factor", 1.0))
    problems = []
    for check, wants in expect["fails"].items():
        outcome = run_check(exercise, check, folder, timeout_factor=factor)
        if outcome.status != "failed":
            problems.append(f"{check}: {outcome.status}, expected to fail")
            continue
        text = outcome.feedback
        problems += [f"{check}: lacks {phrase!r}" for phrase in wants.get("says", []) if phrase not in text]
        problems += [f"{check}: says {phrase!r}" for phrase in [*wants.get("never", []), *NEVER_ANYWHERE]
                     if phrase in text]
        if any(p.startswith(check + ":") for p in problems):
            problems.append(f"--- {check} feedback:\n{text}\n---")
    for check in expect.get("passes", []):
        outcome = run_check(exercise, check, folder, timeout_factor=factor)
        if outcome.status != "passed":
            problems.append(f"{check}: {outcome.status}, expected to pass:\n{outcome.feedback}")
    assert not problems, f"{entry} ({expect['mistake']}):\n" + "\n".join(problems)
    assert leftovers() == []
