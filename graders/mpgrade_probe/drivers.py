"""Drivers: small scenarios that exercise student classes (sandbox side).

A plain function call is not always enough: a ``Process`` subclass has to be
constructed, started, fed and drained. A driver does that next to the student
code and returns only evidence (what came out, which PIDs, exit codes), never
a verdict. Drivers are named by graders with ``student.drive("name", ...)``.
"""
from __future__ import annotations

import multiprocessing
import os
import queue as queue_module
import time
from types import ModuleType
from typing import Any

__all__ = ["process_subclass_with_queue"]


class MissingName(Exception):
    """The student module lacks a name the exercise asks for."""

    def __init__(self, name: str, kind: str, found: str | None = None) -> None:
        super().__init__(name)
        self.name = name
        self.kind = kind
        self.found = found


def require(module: ModuleType, name: str, kind: str) -> Any:
    """``module.name``, checked to be a ``kind`` ("function" or "class")."""
    try:
        value = getattr(module, name)
    except AttributeError:
        raise MissingName(name, kind) from None
    if kind == "class" and not isinstance(value, type):
        raise MissingName(name, kind, found=type(value).__name__)
    if kind == "function" and (isinstance(value, type) or not callable(value)):
        raise MissingName(name, kind, found=type(value).__name__)
    return value


def process_subclass_with_queue(module: ModuleType, class_name: str, args: list,
                                n_items: int, wait_s: float = 10.0) -> dict[str, Any]:
    """Build ``class_name(*args, queue)``, start it, drain up to ``n_items`` items, join it."""
    cls = require(module, class_name, "class")
    evidence: dict[str, Any] = {
        "is_process_subclass": issubclass(cls, multiprocessing.Process),
        "overrides_run": getattr(cls, "run", None) is not multiprocessing.Process.run,
        "caller_pid": os.getpid(),
    }
    results: Any = multiprocessing.Queue()
    worker = cls(*args, results)
    worker.start()
    items: list[Any] = []
    deadline = time.monotonic() + wait_s
    while len(items) < n_items and time.monotonic() < deadline:
        try:
            items.append(results.get(timeout=0.05))
        except queue_module.Empty:
            if not worker.is_alive():
                try:  # the last items may still be in the pipe after the worker exits
                    while len(items) < n_items:
                        items.append(results.get(timeout=0.2))
                except queue_module.Empty:
                    pass
                break
    worker.join(timeout=max(0.1, deadline - time.monotonic()))
    evidence.update(
        items=items,
        worker_pid=worker.pid,
        exitcode=worker.exitcode,
        still_alive=worker.is_alive(),
    )
    return evidence
