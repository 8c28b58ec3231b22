"""mpgrade: grade Python multiprocessing exercises safely and fairly.

The API that grader modules use, and nothing else. Student code never runs
in this process: ``student.call(...)`` runs it in a sandbox and returns
plain data; checks turn that evidence into points with ``fail``, ``check``
and ``partial``.
"""
from __future__ import annotations

from .outcomes import CheckFailed, GradingError, check, fail, partial
from .sandbox.launcher import CallRequest, CallResult, run_call
from .settings import GradingSettings
from .student import Student, task

__all__ = [
    "CallRequest",
    "CallResult",
    "CheckFailed",
    "GradingError",
    "GradingSettings",
    "Student",
    "check",
    "fail",
    "partial",
    "run_call",
    "task",
]
