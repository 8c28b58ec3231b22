"""The graders' handle on one student module (trusted side).

``student.call("run_in_processes", task("exit_after"), [(3,)])`` runs the
student's function in a sandbox (see :mod:`mpgrade.sandbox.launcher`) and
returns a :class:`CallResult` whose ``value`` is plain data. Every way a
call can go wrong (import error, missing name, exception, hang, crash)
becomes a :class:`CheckFailed` with feedback for the student.

A module that cannot be imported is tried once per grading process: the
remaining checks of that exercise fail at once with the same feedback
instead of waiting out the time limit again.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from mpgrade_sandboxed.plaindata import TaskRef

from . import feedback
from .outcomes import CheckFailed, GradingError
from .sandbox.call import CallRequest, CallResult
from .sandbox.launcher import run_call
from .sandbox.runtime import Limits
from .settings import DEFAULT_CALL_TIMEOUT_S, GradingSettings

_import_failures: dict[tuple[str, str, str], str] = {}


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

    @property
    def path(self) -> Path:
        return self.settings.submission / self.module_file

    def run(self, target: str, *args: Any, kind: str = "function", timeout: float | None = None,
            start_method: str | None = None, races: bool = False, **kwargs: Any) -> CallResult:
        """Run one call in a sandbox and return what happened, without judging it."""
        limit = (timeout or DEFAULT_CALL_TIMEOUT_S) * self.settings.timeout_factor
        request = CallRequest(
            submission=self.settings.submission, module=self.exercise, target=target, kind=kind,
            args=args, kwargs=kwargs, start_method=start_method or self.settings.start_method,
            timeout_s=limit, races=races,
            limits=Limits(max_processes=self.settings.max_processes, max_memory_mb=self.settings.max_memory_mb,
                          address_space_mb=self.settings.max_address_space_mb,
                          file_size_mb=self.settings.max_file_mb),
            namespaces=self.settings.namespaces,
        )
        return run_call(request)

    def _checked(self, target: str, action: str, args: tuple, kind: str, timeout: float | None,
                 start_method: str | None, kwargs: dict, races: bool = False) -> CallResult:
        __tracebackhide__ = True
        key = (str(self.settings.submission), self.exercise, start_method or self.settings.start_method)
        if key in _import_failures:
            raise CheckFailed(_import_failures[key])
        if not self.path.is_file():
            raise CheckFailed(f"{self.module_file} is missing from {self.settings.submission}. "
                              f"Put your solution in a file named exactly {self.module_file}.")
        result = self.run(target, *args, kind=kind, timeout=timeout, start_method=start_method, races=races,
                          **kwargs)
        if result.status == "returned":
            return result
        limit = (timeout or DEFAULT_CALL_TIMEOUT_S) * self.settings.timeout_factor
        text = feedback.explain(result, action, self.module_file, limit, self.path)
        if result.status == "import_error" or (result.status in ("timeout", "limit")
                                               and result.phase not in ("calling", "done")):
            _import_failures[key] = text
        if result.status in ("sandbox_error", "runtime_error"):
            raise GradingError(text)
        raise CheckFailed(text)

    def call(self, function: str, *args: Any, timeout: float | None = None,
             start_method: str | None = None, races: bool = False, **kwargs: Any) -> CallResult:
        """Call ``function(*args, **kwargs)`` in the student module; fail the check unless it returns.

        With ``races=True`` the shared objects the call creates are tracked (see ``mpgrade.races``).
        """
        __tracebackhide__ = True
        action = f"`{feedback.call_text(function, args, kwargs)}`"
        return self._checked(function, action, args, "function", timeout, start_method, kwargs, races)

    def script(self, timeout: float | None = None, start_method: str | None = None) -> CallResult:
        """Run the student's file as ``python FILE`` would; fail the check unless it runs to the end."""
        __tracebackhide__ = True
        if not self.path.is_file():
            raise CheckFailed(f"{self.module_file} is missing from {self.settings.submission}.")
        method = start_method or self.settings.start_method
        limit = (timeout or DEFAULT_CALL_TIMEOUT_S) * self.settings.timeout_factor
        result = self.run(self.exercise, kind="script", timeout=timeout, start_method=method)
        action = f"Running `python {self.module_file}` (start method {method})"
        if result.status == "returned":
            return result
        if result.status == "timeout":
            missing = feedback.not_found_in_children(result, self.path)
            if missing:
                raise CheckFailed(f"{action} did not finish within {limit:g} s and was stopped. {missing}")
            raise CheckFailed(
                f"{action} did not finish within {limit:g} s and was stopped. Under spawn every worker "
                "process imports your file again; if the file starts work at the top level, each worker "
                "starts it again and a Pool keeps restarting its workers forever. Put that code in main() "
                "and call main() only under `if __name__ == \"__main__\":`." + feedback.output_tail(result))
        raise CheckFailed(feedback.explain(result, action, self.module_file, limit, self.path))

    def drive(self, driver: str, *args: Any, what: str | None = None, timeout: float | None = None,
              start_method: str | None = None, **kwargs: Any) -> CallResult:
        """Run a driver from ``mpgrade_sandboxed.drivers`` on the student module; ``what`` names it in feedback."""
        __tracebackhide__ = True
        action = what or f"the {driver.replace('_', ' ')} scenario"
        return self._checked(driver, action, args, "driver", timeout, start_method, kwargs)
