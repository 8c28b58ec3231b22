"""Naming the real cause of a failed check from the evidence a call brought back (trusted side).

A student acts on the words of a failed check, not on its points, so a
check states the most specific cause its evidence shows, in this order:

1. a crash in a child process: its exception and the student's line
   (:func:`child_crash`, from the exit codes the spies saw at ``join()`` and
   the traceback the child printed);
2. which process did what (task records, ``process_starts``: the target and
   the types of the arguments each process was handed);
3. the first element that differs, with its index and both values
   (:func:`first_difference`, :func:`element_text`);
4. the API call that is missing or repeated, and where the student's file
   makes it (:mod:`mpgrade.verdicts.source`: the file parsed with ``ast``, never imported).

A generic hint is left for when none of these shows anything. Nothing here
runs student code; the student's file is only parsed.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Sequence

from mpgrade.verdicts.feedback import worker_error
from mpgrade.sandbox.call import CallResult


def child_crash(result: CallResult, student_file: Path) -> str:
    """How a child process the student joined ended badly (exception, student's line, exit code); "" if none did.

    The exit codes come from the spies on ``Process.join`` in the caller; the
    exception and line from the traceback the child printed on its way out.
    """
    failures = [f for f in result.child_failures if f.get("exitcode")]
    if not failures:
        return ""
    code = failures[0]["exitcode"]
    others = f"; {len(failures)} processes ended this way" if len(failures) > 1 else ""
    if isinstance(code, int) and code < 0:
        terminated = int((result.api_calls.get("Process.terminate") or {}).get("from_student", 0))
        if code == -15 and terminated:
            return (f"A child process was stopped with terminate() (exit code -15{others}) instead of "
                    "ending on its own.")
        return f"A child process was killed by signal {-code} (exit code {code}{others})."
    raised = worker_error(result, student_file)
    if raised:
        return f"{raised}\n  (that process then exited with code {code}{others})"
    return f"A child process exited with code {code}{others} instead of 0."


def first_difference(got: Sequence, expected: Sequence,
                     same: Callable[[Any, Any], bool] | None = None) -> int | None:
    """The first index where ``got`` and ``expected`` differ (a length difference counts), or None."""
    equal = same or (lambda a, b: a == b)
    for index, (g, e) in enumerate(zip(got, expected)):
        if not equal(g, e):
            return index
    if len(got) != len(expected):
        return min(len(got), len(expected))
    return None


def differing(got: Sequence, expected: Sequence, same: Callable[[Any, Any], bool] | None = None) -> list[int]:
    """Every index (of the shorter) where ``got`` and ``expected`` differ."""
    equal = same or (lambda a, b: a == b)
    return [i for i, (g, e) in enumerate(zip(got, expected)) if not equal(g, e)]


def element_text(got: Sequence, expected: Sequence, index: int, noun: str = "element") -> str:
    """``the element at index 13 is 4.1e7; expected 6561.0`` (or what is missing there)."""
    if index >= len(got):
        return f"it has no {noun} at index {index} ({len(got)} {noun}s; expected {len(expected)})"
    if index >= len(expected):
        return (f"the {noun} at index {index} ({got[index]!r}) is one too many ({len(got)} {noun}s; "
                f"expected {len(expected)})")
    return f"the {noun} at index {index} is {got[index]!r}; expected {expected[index]!r}"


def index_list(indices: Sequence[int], limit: int = 6) -> str:
    """``3, 17 and 40`` (at most ``limit`` shown)."""
    shown = [str(i) for i in indices[:limit]]
    if len(indices) > limit:
        return ", ".join(shown) + f" and {len(indices) - limit} more"
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]


def started_with(result: CallResult, type_names: Sequence[str]) -> dict | None:
    """The first process the student started with an argument of one of ``type_names`` (e.g. "ndarray", "list")."""
    for start in result.process_starts:
        types = [str(t) for t in start.get("arg_types") or []]
        if any(t in type_names for t in types):
            return start
    return None
