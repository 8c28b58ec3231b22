"""Point at the student's file and line for an exception (sandbox side).

Runs in the sandbox, next to student code. Like ``concurrent.futures``
bringing a worker's traceback home, but what comes home is only the
student's frame (file relative to the submission, line, source text) and, for
an unfinished stub, the nearest ``# TODO`` comment above the ``raise``.
"""
from __future__ import annotations

import linecache
import os
import re
import traceback
from typing import Any

TODO_LOOKBACK = 12
_FILE_LINE = re.compile(r'File "([^"]+)", line (\d+)')


def _in_submission(filename: str, root: str) -> bool:
    try:
        path = os.path.realpath(filename)
    except (OSError, ValueError):
        return False
    return path.startswith(root + os.sep)


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
        if _in_submission(match.group(1), root):
            return _where(match.group(1), int(match.group(2)), None, root)
    return None


def student_frame(exc: BaseException, root: str) -> dict[str, Any] | None:
    """Where in the submission ``exc`` was raised: the worker's line for an exception
    re-raised from a worker process, else the innermost frame in the submission."""
    root = os.path.realpath(root)
    if isinstance(exc, SyntaxError) and exc.filename and _in_submission(exc.filename, root):
        return _where(exc.filename, exc.lineno or 0, None, root)
    local = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if _in_submission(frame.filename, root):
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
        if frame.name == "<module>" and _in_submission(frame.filename, root):
            return _where(frame.filename, frame.lineno or 0, None, root)
    return None


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
