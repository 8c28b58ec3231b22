"""How a grader check ends: passed, failed with feedback, or partial credit (trusted side).

A check that raises :class:`CheckFailed` fails with the student-facing
feedback it carries and nothing else: no grader traceback is shown. A
check may award part of its points with :func:`partial`.
"""
from __future__ import annotations


class CheckFailed(Exception):
    """A check failed; ``feedback`` is written for the student."""

    status = "failed"

    def __init__(self, feedback: str, score: float = 0.0, fraction: float | None = None,
                 cause: str | None = None) -> None:
        super().__init__(feedback)
        self.feedback = feedback
        self.score = score
        self.fraction = fraction
        """When set, the share of the check's points to award (the plugin knows the points)."""
        self.cause = cause
        """The cause's code (``mpgrade.verdicts.causes``) when the check names it; else found from the words."""


class GradingError(CheckFailed):
    """The check could not be carried out (not the student's fault): reported as "error"."""

    status = "error"


def fail(feedback: str, cause: str | None = None) -> None:
    """Fail the current check with ``feedback`` (what went wrong, the evidence, how to fix it)."""
    __tracebackhide__ = True
    raise CheckFailed(feedback, cause=cause)


def check(condition: object, feedback: str, cause: str | None = None) -> None:
    """Fail the current check with ``feedback`` unless ``condition`` holds."""
    __tracebackhide__ = True
    if not condition:
        raise CheckFailed(feedback, cause=cause)


def partial(score: float, feedback: str, cause: str | None = None) -> None:
    """End the current check with ``score`` of its points and ``feedback`` on what is missing."""
    __tracebackhide__ = True
    raise CheckFailed(feedback, score=score, cause=cause)
