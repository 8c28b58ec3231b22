"""Which frames are the student's, and where the student's code is (sandbox side).

Runs in the sandbox, next to student code: in the runner and, for the race
recorder, in every child process. It is the one place that decides whether a
frame (or a file named in a traceback) belongs to the submission; the spies,
the lock recorder, exception descriptions and the trusted side's reading of
worker tracebacks all ask :func:`is_student_file`.

Like ``concurrent.futures`` bringing a worker's traceback home, but what comes
home is only the student's frame (file relative to the submission, line,
source text) and, for an unfinished stub, the nearest ``# TODO`` comment above
the ``raise``.
"""
from __future__ import annotations

import linecache
import os
import re
import sys
import traceback
from typing import Any

TODO_LOOKBACK = 12
_FILE_LINE = re.compile(r'File "([^"]+)", line (\d+)')
SUBMISSION_ENV = "MPGRADE_SUBMISSION"
"""The submission folder's real path; the runner sets it and every child process inherits it."""
_MP_CONTEXT = os.path.join("multiprocessing", "context.py")
_RUNTIME_DIR = os.path.dirname(__file__)


def is_student_file(filename: str, root: str | None = None) -> bool:
    """Whether ``filename`` (a code object's or a traceback's file) is in the submission.

    ``root`` is the submission folder's real path; by default the one the
    runner put in ``MPGRADE_SUBMISSION``. Nothing is the student's when no
    submission is known.
    """
    if root is None:
        root = os.environ.get(SUBMISSION_ENV, "")
    if not root or not filename:
        return False
    try:
        path = os.path.realpath(filename)
    except (OSError, ValueError):
        return False
    return path.startswith(root + os.sep)


def called_from_student(depth: int = 2, root: str | None = None) -> bool:
    """Whether the frame ``depth`` levels up (2: whoever called the function that asks) is the student's.

    ``multiprocessing.Pool(...)`` and friends go through a method of
    ``multiprocessing.context`` first; those frames are skipped, so the call
    counts where it was written. Only that one frame is judged: ``Pool``
    starting its own workers is not the student starting processes.
    """
    frame: Any = sys._getframe(depth)
    while frame is not None and frame.f_code.co_filename.endswith(_MP_CONTEXT):
        frame = frame.f_back
    return frame is not None and is_student_file(frame.f_code.co_filename, root)


def student_site(root: str | None = None) -> dict[str, Any]:
    """The student's line running now: the innermost frame in the submission, else the
    innermost frame outside this runtime (``{}`` when there is none)."""
    frame: Any = sys._getframe(1)
    fallback = None
    while frame is not None:
        filename = frame.f_code.co_filename
        if is_student_file(filename, root):
            fallback = frame
            break
        if fallback is None and os.path.dirname(filename) != _RUNTIME_DIR:
            fallback = frame
        frame = frame.f_back
    if fallback is None:
        return {}
    filename = fallback.f_code.co_filename
    return {"file": os.path.basename(filename), "line": fallback.f_lineno,
            "source": linecache.getline(filename, fallback.f_lineno).strip()[:200]}


def _where(filename: str, lineno: int, function: str | None, root: str) -> dict[str, Any]:
    path = os.path.realpath(filename)
    source = linecache.getline(path, lineno).strip()
    where: dict[str, Any] = {
        "file": os.path.relpath(path, root),
        "line": lineno,
        "function": function,
        "source": source[:200],
    }
    todo = find_todo(path, lineno)
    if todo:
        where["todo"] = todo
    return where


def find_todo(path: str, lineno: int) -> str | None:
    """The ``# TODO`` comment closest above ``lineno`` (the hint a stub raises under)."""
    for number in range(lineno, max(0, lineno - TODO_LOOKBACK), -1):
        text = linecache.getline(path, number).strip()
        if text.startswith("# TODO"):
            return text[len("# TODO"):].lstrip(":").strip()[:300] or None
    return None


def _remote_frame(exc: BaseException, root: str) -> dict[str, Any] | None:
    """The student frame in a worker's traceback that Pool or concurrent.futures attached as text."""
    cause = exc.__cause__
    if cause is None or "RemoteTraceback" not in type(cause).__name__:
        return None
    for match in reversed(list(_FILE_LINE.finditer(str(cause)))):
        if is_student_file(match.group(1), root):
            return _where(match.group(1), int(match.group(2)), None, root)
    return None


def student_frame(exc: BaseException, root: str) -> dict[str, Any] | None:
    """Where in the submission ``exc`` was raised: the worker's line for an exception
    re-raised from a worker process, else the innermost frame in the submission."""
    root = os.path.realpath(root)
    if isinstance(exc, SyntaxError) and exc.filename and is_student_file(exc.filename, root):
        return _where(exc.filename, exc.lineno or 0, None, root)
    local = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if is_student_file(frame.filename, root):
            local = _where(frame.filename, frame.lineno or 0, frame.name, root)
    remote = _remote_frame(exc, root)
    if remote is not None:
        if local is not None:
            remote["called_from"] = f"{local['file']}:{local['line']}"
        return remote
    return local


def module_level_frame(exc: BaseException, root: str) -> dict[str, Any] | None:
    """The top-level statement of the student's module that led to ``exc`` (for errors at import)."""
    root = os.path.realpath(root)
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.name == "<module>" and is_student_file(frame.filename, root):
            return _where(frame.filename, frame.lineno or 0, None, root)
    return None


def waiting_frame(frame: Any, root: str, module_level: bool = False) -> dict[str, Any] | None:
    """Where another thread's stack (``frame``: its innermost) is in the submission: the innermost student
    frame, or with ``module_level`` the top-level statement of the student's module (an import under way)."""
    root = os.path.realpath(root)
    found = None
    while frame is not None:
        code = frame.f_code
        if is_student_file(code.co_filename, root) and (not module_level or code.co_name == "<module>"):
            found = _where(code.co_filename, frame.f_lineno or 0, None if module_level else code.co_name, root)
            if not module_level:
                break
        frame = frame.f_back
    return found


def describe(exc: BaseException, root: str) -> dict[str, Any]:
    """Plain-data description of an exception raised by student code."""
    try:
        message = str(exc)
    except BaseException:  # a student exception whose __str__ raises
        message = "<message could not be shown>"
    return {
        "type": type(exc).__name__,
        "message": message[:1000],
        "where": student_frame(exc, root),
    }
