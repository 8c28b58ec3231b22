"""mpgrade: grade Python multiprocessing exercises safely and fairly.

The API that grader modules use, and nothing else. Student code never runs
in this process: ``student.call(...)`` runs it in a sandbox and returns
plain data (a :class:`CallResult`); a grader module declares its exercise
once (``EXERCISE = Exercise(...)``, see :mod:`mpgrade.course.curriculum`); checks turn that evidence into points
with ``check``, ``fail`` and ``partial``, and the engine's verdicts on races,
the ``__main__`` guard, speedup and clean shutdown.
"""
from __future__ import annotations

from mpgrade_sandboxed.plaindata import Opaque, RemoteException

from mpgrade.answers import count_primes_below
from mpgrade.course.curriculum import Exercise
from mpgrade.grading.student import Student, task
from mpgrade.outcomes import CheckFailed, GradingError, check, fail, partial
from mpgrade.sandbox.call import CallRequest, CallResult
from mpgrade.sandbox.launcher import run_call
from mpgrade.sandbox.machine import usable_cpus
from mpgrade.settings import GradingSettings
from mpgrade.verdicts.diagnose import child_crash, differing, element_text, first_difference, index_list, started_with
from mpgrade.verdicts.evidence import (
    calls, require_clean_exit, require_no_crash, require_untampered, require_work_in_children, started_processes,
    still_running, task_records, worker_pids,
)
from mpgrade.verdicts.feedback import describe_raised, short, todo_hint, where_text, worker_error
from mpgrade.verdicts.guard import check_dynamic, check_guard, check_static
from mpgrade.verdicts.hangs import describe_hang, hang_waits
from mpgrade.verdicts.races import RaceRun, find_races, first_unlocked_place, judge_races, race_text
from mpgrade.verdicts.source import calls_in_source, guard_blocks
from mpgrade.verdicts.speedup import check_speedup

__all__ = [
    "CallRequest", "CallResult", "calls", "calls_in_source", "check", "check_dynamic", "check_guard", "check_speedup",
    "check_static", "CheckFailed", "child_crash", "count_primes_below", "describe_hang", "describe_raised",
    "differing", "element_text", "Exercise", "fail", "find_races", "first_difference", "first_unlocked_place",
    "GradingError", "GradingSettings", "guard_blocks", "hang_waits", "index_list", "judge_races", "Opaque", "partial",
    "race_text", "RaceRun", "RemoteException", "require_clean_exit", "require_no_crash", "require_untampered",
    "require_work_in_children", "run_call", "short", "started_processes", "started_with", "still_running", "Student",
    "task", "task_records", "todo_hint", "usable_cpus", "where_text", "worker_error", "worker_pids",
]
