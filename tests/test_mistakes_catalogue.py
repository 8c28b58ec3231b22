"""The catalogue of mistakes: feedback that names the real cause, every time.

Each folder of ``tests/submissions/mistakes/`` is a reference solution with one
realistic mistake, stored as only what that student wrote differently
(``<exercise>.part.py``, composed with the solution when graded:
``python -m mpgrade.course.parts show FOLDER`` prints the whole file), and a
small ``expect.json``:

- ``mistake``: the mistake, in one line;
- ``fails``: check -> ``says`` (phrases its feedback must contain) and
  ``never`` (phrases it must not contain: the hints the evidence contradicts);
- ``passes``: checks the mistake must not fail (optional);
- per failing check, ``cause``: the code report v1 must carry
  (``mpgrade.verdicts.causes``), and ``timeline`` (optional): what the
  check's timeline must say it shows;
- ``timeout_factor`` for entries that hang (optional); ``issue_kind`` ties an
  entry to one of eight kinds of untrue feedback (a hint the evidence contradicts,
  a symptom named for its cause, ...).

Only the checks an entry names are graded (``mpgrade.grading.direct.check_outcomes``,
one sandboxed call or a few per check), so the catalogue stays clear of the
speedup check; three entries at once, each in a worker process. Student code
runs in sandboxes, as in real grading.
"""
from __future__ import annotations

import json
import multiprocessing
import os
import time
import uuid
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import psutil
import pytest

from conftest import SUBMISSIONS, whole
from mpgrade.course import curriculum
from mpgrade.course.parts import exercise_of
from mpgrade.verdicts import causes, timeline
from mpgrade.grading.direct import check_outcomes

CATALOGUE = SUBMISSIONS / "mistakes"
ENTRIES = sorted(p.name for p in CATALOGUE.iterdir() if (p / "expect.json").is_file())
LEFTOVER_MARK = "LEFTOVER_MARK"
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
        modules = [p for p in (CATALOGUE / entry).iterdir() if p.suffix == ".py"]  # only what the student wrote
        assert [exercise_of(m) for m in modules] == [next(n for n in curriculum.names() if n[:4] == entry[:4])], entry
        assert expect["mistake"] and expect["fails"], entry
        assert all(wants.get("says") for wants in expect["fails"].values()), entry
        # Report v1 names the cause of every entry (checks[].cause), as the class summary counts them.
        assert all(wants.get("cause") in causes.BY_CODE for wants in expect["fails"].values()), entry


GRADED_AT_ONCE = 3
"""Entries graded at once, each in a worker process of its own (its own sandbox template): a check mostly waits
for processes to start and end, and the checks are built to be right under load (as test_correct_variants)."""


@pytest.fixture(scope="module")
def catalogue_outcomes(request: pytest.FixtureRequest):
    """The selected entries' named checks graded in the background from the first test on: entry -> future of
    check -> (status, feedback), in the order the tests run."""
    selected = [item.callspec.params["entry"] for item in request.session.items
                if getattr(item, "originalname", "") == "test_a_known_mistake_gets_feedback_that_names_its_cause"]
    from multiprocessing import resource_tracker

    resource_tracker.ensure_running()  # this process's own, alive until pytest ends: started before the mark
    mark = uuid.uuid4().hex
    os.environ[LEFTOVER_MARK] = mark  # every worker, its sandboxes and whatever student code starts carry it
    try:
        pool = ProcessPoolExecutor(GRADED_AT_ONCE, mp_context=multiprocessing.get_context("spawn"))
    finally:
        del os.environ[LEFTOVER_MARK]
    futures = {}
    for entry in selected:
        expect = _expect(entry)
        folder = whole(CATALOGUE / entry)
        checks = [*expect["fails"], *[c for c in expect.get("passes", []) if c not in expect["fails"]]]
        futures[entry] = pool.submit(check_outcomes, next(folder.glob("ex*.py")).stem, folder, checks,
                                     float(expect.get("timeout_factor", 1.0)))
    try:
        yield Graded(futures, pool, mark)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


@dataclass
class Graded:
    futures: dict
    pool: ProcessPoolExecutor
    mark: str
    """The environment mark of every process the grading started (``LEFTOVER_MARK``)."""


def _marked(mark: str) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter():
        try:
            if proc.status() != psutil.STATUS_ZOMBIE and proc.environ().get(LEFTOVER_MARK) == mark:
                found.append(proc)
        except psutil.Error:
            continue
    return found


@pytest.mark.parametrize("entry", ENTRIES)
def test_a_known_mistake_gets_feedback_that_names_its_cause(entry, catalogue_outcomes):
    expect = _expect(entry)
    outcomes = catalogue_outcomes.futures[entry].result(timeout=900)
    problems = []
    for check, wants in expect["fails"].items():
        status, text = outcomes[check]["status"], outcomes[check]["feedback"]
        if status != "failed":
            problems.append(f"{check}: {status}, expected to fail")
            continue
        cause = outcomes[check]["cause"]
        if cause not in causes.BY_CODE or cause == "other" or cause != wants.get("cause", cause):
            problems.append(f"{check}: cause {cause!r}, expected {wants.get('cause', 'a named cause')!r}")
        drawn = outcomes[check]["timeline"]
        if wants.get("timeline") and not (drawn and wants["timeline"] in drawn["says"]):
            problems.append(f"{check}: timeline says {drawn and drawn['says']!r}, not {wants['timeline']!r}")
        elif wants.get("timeline", "").startswith("No two task runs overlapped") and timeline.max_overlap(drawn) != 1:
            problems.append(f"{check}: timeline has overlapping runs, yet says none overlapped")
        problems += [f"{check}: lacks {phrase!r}" for phrase in wants.get("says", []) if phrase not in text]
        problems += [f"{check}: says {phrase!r}" for phrase in [*wants.get("never", []), *NEVER_ANYWHERE]
                     if phrase in text]
        if any(p.startswith(check + ":") for p in problems):
            problems.append(f"--- {check} feedback:\n{text}\n---")
    for check in expect.get("passes", []):
        status, text = outcomes[check]["status"], outcomes[check]["feedback"]
        if status != "passed":
            problems.append(f"{check}: {status}, expected to pass:\n{text}")
    assert not problems, f"{entry} ({expect['mistake']}):\n" + "\n".join(problems)


def test_the_catalogue_leaves_nothing_behind(catalogue_outcomes):
    """Once every entry is graded and the workers have ended, no process the grading started is alive (their
    sandbox templates end with them; every call's processes ended with the call)."""
    for future in catalogue_outcomes.futures.values():
        future.result(timeout=900)
    catalogue_outcomes.pool.shutdown(wait=True)
    left = _marked(catalogue_outcomes.mark)
    for _ in range(50):
        if not left:
            break
        time.sleep(0.1)
        left = _marked(catalogue_outcomes.mark)
    assert left == [], [(p.pid, p.cmdline()[:3]) for p in left]
