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

from .outcomes import CheckFailed
from .settings import GRADERS_DIR, GradingSettings
from .student import Student


@dataclass(frozen=True)
class CheckOutcome:
    """How one check ended."""

    status: str
    """passed or failed."""
    score: float
    feedback: str
    seconds: float


def load_grader(exercise: str):
    """The official grader module for ``exercise`` (e.g. ``ex05_counter``)."""
    path = GRADERS_DIR / f"test_{exercise}.py"
    spec = importlib.util.spec_from_file_location(f"mpgrade_grader_{exercise}", path)
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


def run_check(exercise: str, check: str, submission: Path, start_method: str = "spawn",
              seed: int = 0, timeout_factor: float = 1.0) -> CheckOutcome:
    """Run ``check`` (a test function name) of ``exercise``'s grader against ``submission``."""
    function = getattr(load_grader(exercise), check)
    settings = GradingSettings(Path(submission).resolve(), start_method, timeout_factor, seed, None)
    fixtures = {"student": Student(settings, exercise), "rng": random.Random(f"{seed}:{check}"),
                "grading_settings": settings}
    arguments = {name: fixtures[name] for name in inspect.signature(function).parameters}
    began = time.perf_counter()
    try:
        function(**arguments)
    except CheckFailed as failure:
        return CheckOutcome("failed", failure.score, failure.feedback, time.perf_counter() - began)
    return CheckOutcome("passed", 1.0, "", time.perf_counter() - began)
