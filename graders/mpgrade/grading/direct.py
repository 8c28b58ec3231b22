"""Run one grader check outside pytest (trusted side), for benchmarks and the kit's tests.

The check function is called with the fixtures it asks for (``student``,
``rng``, ``grading_settings``); student code still runs only in sandboxes.
"""
from __future__ import annotations

import importlib.util
import inspect
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from mpgrade.outcomes import CheckFailed
from mpgrade.settings import DEFAULT_START_METHOD, GRADERS_DIR, GradingSettings
from mpgrade.grading.student import Student
from mpgrade.verdicts import causes


@dataclass(frozen=True)
class CheckOutcome:
    """How one check ended."""

    status: str
    """passed, failed or skipped."""
    fraction: float
    """Share of the check's points earned (1 when passed; a partial failure's share)."""
    feedback: str
    seconds: float
    details: dict
    cause: str = ""
    """A failed check's cause code (``mpgrade.verdicts.causes``), as the plugin records it."""


def load_grader(exercise: str):
    """The official grader module for ``exercise`` (e.g. ``ex05_counter``)."""
    path = GRADERS_DIR / f"test_{exercise}.py"
    spec = importlib.util.spec_from_file_location(f"mpgrade_grader_{exercise}", path)
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


def check_function(grader, check: str):
    """The check named ``check`` in a loaded grader module, including the guard check its declaration implies."""
    from mpgrade.course.curriculum import Exercise
    from mpgrade.grading.plugin import main_guard_check

    function = getattr(grader, check, None)
    declaration = getattr(grader, "EXERCISE", None)
    if function is None and check == "test_main_guard" and isinstance(declaration, Exercise) \
            and declaration.guard_points:
        return main_guard_check
    if function is None:
        raise AttributeError(f"{grader.__name__} has no check {check!r}")
    return function


def run_check(exercise: str, check: str, submission: Path, start_method: str = DEFAULT_START_METHOD,
              seed: int = 0, timeout_factor: float = 1.0, namespaces: str = "auto", **settings: Any) -> CheckOutcome:
    """Run ``check`` (a test function name) of ``exercise``'s grader against ``submission``; ``settings``: other
    ``GradingSettings`` fields (``landlock``, ``max_written_mb``, ...)."""
    function = check_function(load_grader(exercise), check)
    settings = GradingSettings(Path(submission).resolve(), start_method, timeout_factor, seed, None,
                               namespaces=namespaces, **settings)
    details: dict = {}
    fixtures = {"student": Student(settings, exercise), "rng": random.Random(f"{seed}:{check}"),
                "grading_settings": settings, "check_details": details}
    arguments = {name: fixtures[name] for name in inspect.signature(function).parameters}
    began = time.perf_counter()
    try:
        function(**arguments)
    except CheckFailed as failure:
        fixtures["student"].add_timeline(details)
        return CheckOutcome("failed", failure.fraction or 0.0, failure.feedback, time.perf_counter() - began, details,
                            causes.of(failure))
    except pytest.skip.Exception as skipped:
        return CheckOutcome("skipped", 0.0, str(skipped), time.perf_counter() - began, details)
    fixtures["student"].add_timeline(details)
    return CheckOutcome("passed", 1.0, details.get("note", ""), time.perf_counter() - began, details)


def checks_of(exercise: str) -> dict[str, float]:
    """Every check of ``exercise``'s grader (its ``test_*`` functions and the generated guard check), with its
    points, in file order."""
    from mpgrade.course.curriculum import read_declaration

    grader = load_grader(exercise)
    found: dict[str, float] = {}
    for name, function in vars(grader).items():
        if name.startswith("test_") and callable(function):
            marks = [m for m in getattr(function, "pytestmark", []) if m.name == "points"]
            found[name] = float(marks[0].args[0]) if marks else 0.0
    declaration = read_declaration(GRADERS_DIR / f"test_{exercise}.py")
    if declaration.guard_points:
        found["test_main_guard"] = float(declaration.guard_points)
    return found


@dataclass(frozen=True)
class ExerciseOutcome:
    """One exercise graded check by check outside pytest (what ``mpgrade check exNN`` would score)."""

    score: float
    max_score: float
    checks: dict[str, CheckOutcome]

    def lost(self) -> dict[str, str]:
        """Each check that did not pass -> its feedback."""
        return {name: o.feedback for name, o in self.checks.items() if o.status != "passed"}


def grade_exercise(exercise: str, submission: Path, start_method: str = DEFAULT_START_METHOD, seed: int = 0,
                   timeout_factor: float = 1.0, namespaces: str = "auto", **settings: Any) -> ExerciseOutcome:
    """Run every check of ``exercise`` against ``submission``; the score as the plugin would count it."""
    points = checks_of(exercise)
    outcomes = {check: run_check(exercise, check, submission, start_method, seed, timeout_factor, namespaces,
                                 **settings)
                for check in points}
    score = sum(points[c] * (o.fraction if o.status == "failed" else float(o.status == "passed"))
                for c, o in outcomes.items())
    return ExerciseOutcome(round(score, 6), sum(points.values()), outcomes)


def lost_checks(exercise: str, submission: Path, skip: tuple[str, ...] = (), start_method: str = DEFAULT_START_METHOD,
                seed: int = 0) -> dict[str, str]:
    """Each check of ``exercise`` (but ``skip``) that did not pass -> its status and feedback. Plain data, so
    it can run in a worker process of the kit's own tests (which grade many submissions at once)."""
    lost = {}
    for check in checks_of(exercise):
        if check in skip:
            continue
        outcome = run_check(exercise, check, submission, start_method, seed)
        if outcome.status != "passed":
            lost[check] = f"{outcome.status}: {outcome.feedback}"
        elif (outcome.details.get("timeline") or {}).get("says"):  # a picture naming a mistake it did not make
            lost[check] = f"passed, but its timeline says: {outcome.details['timeline']['says']}"
    return lost


def check_outcomes(exercise: str, submission: Path, checks: list[str], timeout_factor: float = 1.0,
                   start_method: str = DEFAULT_START_METHOD, seed: int = 0) -> dict[str, dict]:
    """``checks`` of ``exercise`` run against ``submission``: check -> status, feedback, cause and timeline.
    Plain data, so it can run in a worker process of the kit's own tests (the catalogue is graded several
    entries at once)."""
    return {check: {"status": o.status, "feedback": o.feedback, "cause": o.cause,
                    "timeline": o.details.get("timeline")}
            for check, o in ((c, run_check(exercise, c, submission, start_method, seed, timeout_factor))
                             for c in checks)}
