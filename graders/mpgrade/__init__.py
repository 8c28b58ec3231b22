"""mpgrade: grade Python multiprocessing exercises safely and fairly.

The API that grader modules use, and nothing else. Student code never runs
in this process: ``student.call(...)`` runs it in a sandbox and returns
plain data (a :class:`CallResult`); a grader module declares its exercise
once (``EXERCISE = Exercise(...)``, see :mod:`mpgrade.curriculum`); checks turn that evidence into points
with ``check``, ``fail`` and ``partial``, and the engine's verdicts on races,
the ``__main__`` guard, speedup and clean shutdown.
"""
from __future__ import annotations

from mpgrade_sandboxed.plaindata import Opaque, RemoteException

from .answers import count_primes_below
from .curriculum import Exercise
from .diagnose import child_crash, differing, element_text, first_difference, index_list, started_with
from .evidence import (
    calls, require_clean_exit, require_no_crash, require_untampered, require_work_in_children, started_processes,
    still_running, task_records, worker_pids,
)
from .feedback import short, worker_error
from .guard import check_dynamic, check_guard, check_static
from .hangs import describe_hang, hang_waits
from .machine import usable_cpus
from .outcomes import CheckFailed, GradingError, check, fail, partial
from .races import RaceRun, find_races, first_unlocked_place, judge_races, race_text
from .sandbox.call import CallRequest, CallResult
from .sandbox.launcher import run_call
from .settings import GradingSettings
from .source import calls_in_source, guard_blocks
from .speedup import check_speedup
from .student import Student, task

__all__ = [
    "CallRequest", "CallResult", "CheckFailed", "Exercise", "GradingError", "GradingSettings", "Opaque", "RaceRun",
    "RemoteException", "Student", "calls", "calls_in_source", "check", "check_dynamic", "check_guard",
    "check_speedup", "check_static", "child_crash", "count_primes_below", "describe_hang", "differing", "element_text", "fail",
    "find_races", "first_difference", "hang_waits", "first_unlocked_place", "guard_blocks", "index_list", "judge_races",
    "partial", "race_text", "require_clean_exit", "require_no_crash", "require_untampered", "require_work_in_children",
    "run_call", "short", "started_processes", "started_with", "still_running", "task", "task_records", "usable_cpus",
    "worker_error", "worker_pids",
]
