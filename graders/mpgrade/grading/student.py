"""The graders' handle on one student module (trusted side).

``student.call("run_in_processes", task("exit_after"), [(3,)])`` runs the
student's function in a sandbox (see :mod:`mpgrade.sandbox.launcher`) and
returns a :class:`CallResult` whose ``value`` is plain data. Every way a
call can go wrong (import error, missing name, exception, hang, crash)
becomes a :class:`CheckFailed` with feedback for the student.

A module that cannot be imported is tried once per grading process: the
remaining checks of that exercise fail at once with the same feedback
instead of waiting out the time limit again. A function that hung once is
called again (other inputs may finish: an input-dependent hang must still be
found where it is), but later calls of it, and the module's script, wait
``HANG_RETRY_S`` (or four times its slowest finished call) instead of the
full limit, and their feedback names the first hang.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mpgrade_sandboxed.plaindata import TaskRef

from mpgrade.verdicts import feedback, timeline
from mpgrade.verdicts.hangs import describe_hang, stopped
from mpgrade.outcomes import CheckFailed, GradingError
from mpgrade.sandbox.call import CallRequest, CallResult
from mpgrade.sandbox.launcher import run_call
from mpgrade.sandbox.runtime import Limits
from mpgrade.settings import DEFAULT_CALL_TIMEOUT_S, GradingSettings

_import_failures: dict[tuple[str, str, str], str] = {}
HANG_RETRY_S = 5.0
"""The limit (times the timeout factor) for calls of a function that already hung in this grading process..."""
HANG_RETRY_FACTOR = 4.0
"""...unless it finished before in this many times that (a slow machine): never more than the call's own limit."""


@dataclass(frozen=True)
class Hang:
    """The first call of a student function (or the module's script) that had to be stopped at its limit."""

    action: str
    limit_s: float
    deadlock: bool = False
    """Stopped early because every process waited for another (``CallResult.hang``), not at its limit."""


_hangs: dict[tuple[str, str], dict[str, Hang]] = {}
"""(submission, exercise) -> target -> its first hang (under any start method: one that hangs under spawn
mostly hangs under forkserver too, and a call that finishes still passes)."""
_slowest: dict[tuple[str, str, str], float] = {}
"""(submission, exercise, target) -> the slowest call of it that finished, in seconds."""


def task(name: str) -> TaskRef:
    """A grader task function (from ``mpgrade_sandboxed.tasks``) to pass to student code."""
    from mpgrade_sandboxed import tasks

    if name not in tasks.__all__:
        raise ValueError(f"unknown grader task {name!r}; choose from {', '.join(tasks.__all__)}")
    return TaskRef(name)


class Student:
    """One exercise module of the submission being graded."""

    def __init__(self, settings: GradingSettings, exercise: str) -> None:
        self.settings = settings
        self.exercise = exercise
        self.module_file = f"{exercise}.py"
        self.results: list[CallResult] = []
        """Every call this check made, in order (a check gets a fresh Student): what its timeline is drawn from."""

    @property
    def path(self) -> Path:
        return self.settings.submission / self.module_file

    def run(self, target: str, *args: Any, kind: str = "function", timeout: float | None = None,
            start_method: str | None = None, races: bool = False, **kwargs: Any) -> CallResult:
        """Run one call in a sandbox and return what happened, without judging it."""
        limit = self.limit(timeout)
        request = CallRequest(
            submission=self.settings.submission, module=self.exercise, target=target, kind=kind,
            args=args, kwargs=kwargs, start_method=start_method or self.settings.start_method,
            timeout_s=limit, races=races,
            limits=Limits(max_processes=self.settings.max_processes, max_memory_mb=self.settings.max_memory_mb,
                          address_space_mb=self.settings.max_address_space_mb,
                          file_size_mb=self.settings.max_file_mb,
                          max_written_mb=self.settings.max_written_mb),
            namespaces=self.settings.namespaces, landlock=self.settings.landlock,
        )
        result = run_call(request)
        self.results.append(result)
        return result

    def timeline(self) -> dict | None:
        """The timeline (``mpgrade.verdicts.timeline``) of this check's last call that ran grader tasks: the call
        a check judges last is the one its verdict rests on."""
        for result in reversed(self.results):
            drawn = timeline.build(result)
            if drawn is not None:
                return drawn
        return None

    def add_timeline(self, details: dict) -> None:
        """Put this check's timeline into its report details (``details.timeline``) unless the check put one there.
        The one place the plugin and ``grading.direct`` both do it."""
        drawn = self.timeline() if "timeline" not in details else None
        if drawn is not None:
            details["timeline"] = drawn

    def limit(self, timeout: float | None) -> float:
        """A call's time limit in seconds: its own (or the default) times the timeout factor."""
        return (timeout or DEFAULT_CALL_TIMEOUT_S) * self.settings.timeout_factor

    def _key(self, start_method: str | None) -> tuple[str, str, str]:
        return str(self.settings.submission), self.exercise, start_method or self.settings.start_method

    def _retry_limit(self, key: tuple[str, str, str], target: str, kind: str) -> Hang | None:
        """The first hang that shortens this call's wait: its own target's, or for the script, any function's."""
        hangs = _hangs.get(key[:2], {})
        return hangs.get(target) or (next(iter(hangs.values()), None) if kind == "script" else None)

    def _timed(self, key: tuple[str, str, str], target: str, kind: str, action: str, timeout: float | None,
               call: Any) -> tuple[CallResult, float, Hang | None]:
        """Run ``call(timeout)`` with the limit a previous hang allows; remember hangs and finished calls."""
        limit = self.limit(timeout)
        earlier = self._retry_limit(key, target, kind)
        if earlier is not None:
            slowest = _slowest.get((*key[:2], target), 0.0)
            limit = min(limit, max(HANG_RETRY_S * self.settings.timeout_factor, HANG_RETRY_FACTOR * slowest))
        result = call(limit / self.settings.timeout_factor)
        if result.status == "timeout" and result.phase in ("calling", "done"):
            _hangs.setdefault(key[:2], {}).setdefault(target, Hang(action, limit,
                                                                   bool(result.hang.get("deadlock"))))
        elif result.status == "returned" and result.outside_seconds is not None:
            _slowest[(*key[:2], target)] = max(_slowest.get((*key[:2], target), 0.0), float(result.outside_seconds))
        return result, limit, earlier

    def _checked(self, target: str, action: str, args: tuple, kind: str, timeout: float | None,
                 start_method: str | None, kwargs: dict, races: bool = False, hang_ok: bool = False) -> CallResult:
        __tracebackhide__ = True
        key = self._key(start_method)
        if key in _import_failures:
            raise CheckFailed(_import_failures[key])
        if not self.path.is_file():
            raise CheckFailed(f"{self.module_file} is missing from {self.settings.submission}. "
                              f"Put your solution in a file named exactly {self.module_file}.")
        result, limit, earlier = self._timed(
            key, target, kind, action, timeout,
            lambda seconds: self.run(target, *args, kind=kind, timeout=seconds, start_method=start_method,
                                     races=races, **kwargs))
        if result.status == "returned":
            return result
        if hang_ok and result.hung:
            result.detail = {**result.detail, "limit_s": limit,
                             "earlier": hung_again(earlier) if earlier is not None else ""}
            return result
        text = feedback.explain(result, action, self.module_file, limit, self.path)
        if result.status == "timeout" and earlier is not None:
            text = hung_again(earlier) + text
        if result.status == "import_error" or (result.status in ("timeout", "limit")
                                               and result.phase not in ("calling", "done")):
            _import_failures[key] = text
        if result.status in ("sandbox_error", "runtime_error"):
            raise GradingError(text)
        raise CheckFailed(text)

    def call(self, function: str, *args: Any, timeout: float | None = None,
             start_method: str | None = None, races: bool = False, hang_ok: bool = False,
             **kwargs: Any) -> CallResult:
        """Call ``function(*args, **kwargs)`` in the student module; fail the check unless it returns.

        With ``races=True`` the shared objects the call creates are tracked (see ``mpgrade.verdicts.races``). With
        ``hang_ok=True`` a call stopped for a hang (a deadlock, or its limit) comes back too (``result.hung``): a
        check about structure judges what the witness saw start (``started_processes``, ``task_records``) and
        leaves the hang to the check whose result it prevents (one mistake, one deduction).
        """
        __tracebackhide__ = True
        action = f"`{feedback.call_text(function, args, kwargs)}`"
        return self._checked(function, action, args, "function", timeout, start_method, kwargs, races, hang_ok)

    def script(self, timeout: float | None = None, start_method: str | None = None) -> CallResult:
        """Run the student's file as ``python FILE`` would; fail the check unless it runs to the end."""
        __tracebackhide__ = True
        if not self.path.is_file():
            raise CheckFailed(f"{self.module_file} is missing from {self.settings.submission}.")
        method = start_method or self.settings.start_method
        action = f"Running `python {self.module_file}` (start method {method})"
        result, limit, earlier = self.run_script(method, timeout)
        if result.status == "returned":
            return result
        ended = stopped(result, action, limit)
        if result.status == "timeout" and earlier is not None:  # the function it calls hangs: say that, not spawn
            raise CheckFailed(hung_again(earlier) + f"{ended} too: fix that hang first."
                              + feedback.output_tail(result))
        if result.status == "timeout":
            missing = feedback.not_found_in_children(result, self.path)
            if missing:
                raise CheckFailed(f"{ended}. {missing}")
            described = describe_hang(result, self.path) if result.hang.get("deadlock") else ""
            if described:
                raise CheckFailed(f"{ended}. {described}" + feedback.output_tail(result))
            raise CheckFailed(
                f"{action} did not finish within {limit:g} s and was stopped. Under spawn every worker "
                "process imports your file again; if the file starts work at the top level, each worker "
                "starts it again and a Pool keeps restarting its workers forever. Put that code in main() "
                "and call main() only under `if __name__ == \"__main__\":`." + feedback.output_tail(result))
        raise CheckFailed(feedback.explain(result, action, self.module_file, limit, self.path))

    def run_script(self, start_method: str, timeout: float | None) -> tuple[CallResult, float, Hang | None]:
        """Run the file as a script without judging it: the result, the limit it had, and the earlier hang that
        shortened it (a script calls the module's functions: one that hung before will likely hang again)."""
        action = f"Running `python {self.module_file}` (start method {start_method})"
        return self._timed(self._key(start_method), "__script__", "script", action, timeout,
                           lambda seconds: self.run(self.exercise, kind="script", timeout=seconds,
                                                    start_method=start_method))

    def each(self, function: str, cases: list[tuple], timeout: float | None = None,
             start_method: str | None = None, hang_ok: bool = False) -> tuple[CallResult, list[dict]]:
        """Call ``function(*args)`` for every ``args`` in ``cases``, in one sandbox; fail the check unless all
        were called. Returns the call and each case's outcome (``{"value": ...}`` or ``{"raised": error}``; none
        when ``hang_ok`` let a hung call come back, as for ``call``)."""
        __tracebackhide__ = True
        plain = [list(args) for args in cases]
        result = self._checked("each_case", f"{function}() on its edge cases", (function, plain), "driver",
                               timeout, start_method, {}, hang_ok=hang_ok)
        outcomes = result.value if isinstance(result.value, list) else []
        return result, [o if isinstance(o, dict) else {} for o in outcomes]

    def drive(self, driver: str, *args: Any, what: str | None = None, timeout: float | None = None,
              start_method: str | None = None, **kwargs: Any) -> CallResult:
        """Run a driver from ``mpgrade_sandboxed.drivers`` on the student module; ``what`` names it in feedback."""
        __tracebackhide__ = True
        action = what or f"the {driver.replace('_', ' ')} scenario"
        return self._checked(driver, action, args, "driver", timeout, start_method, kwargs)


def hung_again(earlier: Hang) -> str:
    """The sentence that ties a second hang to the first: why this check waited less, and where to look."""
    if earlier.deadlock:
        return f"In an earlier check {earlier.action} deadlocked (every process waited for another). "
    return (f"In an earlier check {earlier.action} did not finish within {earlier.limit_s:g} s and was stopped, "
            "so this check waited less. ")
