"""Drivers: small scenarios that exercise student classes (sandbox side).

A plain function call is not always enough: a ``Process`` subclass has to be
constructed, started, fed and drained. A driver does that next to the student
code and returns only evidence (what came out, which PIDs, exit codes), never
a verdict. Drivers are named by graders with ``student.drive("name", ...)``.
The lock-discipline drivers hand the student's function a shared object
wrapped by the lock recorder (``lockwatch``), the same one race checks use.
"""
from __future__ import annotations

import multiprocessing
import os
import queue as queue_module
import time
from types import ModuleType
from typing import Any


__all__ = ["process_subclass_with_queue", "value_discipline", "array_discipline", "serial_map",
           "engine_pool_map", "each_case"]

CASE_MARK = "[mpgrade] case "
"""Written to stderr before each case of ``each_case``: after a hang, the last one names the case that hung."""


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
    found = "class" if isinstance(value, type) else type(value).__name__
    if kind == "class" and not isinstance(value, type):
        raise MissingName(name, kind, found=found)
    if kind == "function" and (isinstance(value, type) or not callable(value)):
        raise MissingName(name, kind, found=found)
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


def value_discipline(module: ModuleType, function: str, n: int, typecode: str = "i") -> dict[str, Any]:
    """Call ``function(shared, n)`` in this process on a recorded Value; report how it was locked."""
    target = require(module, function, "function")
    from mpgrade_sandboxed import lockwatch  # recording stand-ins: only these drivers need them

    shared = lockwatch.TrackedValue(multiprocessing.Value(typecode, 0))
    target(shared, n)
    return {"value": shared.get_obj().value, **lockwatch.summary(shared)}


def array_discipline(module: ModuleType, function: str, values: list, times: int,
                     typecode: str = "d") -> dict[str, Any]:
    """Call ``function(shared, times)`` in this process on a recorded Array; report how it was locked."""
    target = require(module, function, "function")
    from mpgrade_sandboxed import lockwatch  # recording stand-ins: only these drivers need them

    shared = lockwatch.TrackedArray(multiprocessing.Array(typecode, values))
    target(shared, times)
    return {"values": list(shared.get_obj()), **lockwatch.summary(shared)}


def serial_map(module: ModuleType, function: str, items: list) -> dict[str, Any]:
    """Time ``[function(x) for x in items]`` in this process: the speedup baseline."""
    target = require(module, function, "function")
    began, cpu = time.perf_counter(), time.process_time()
    values = [target(item) for item in items]
    return {"seconds": time.perf_counter() - began, "cpu_s": time.process_time() - cpu, "values": values}


def engine_pool_map(module: ModuleType, function: str, items: list, processes: int) -> dict[str, Any]:
    """Time a known-good Pool over the same work: what this machine can deliver right now."""
    target = require(module, function, "function")
    began = time.perf_counter()
    with multiprocessing.Pool(processes) as pool:
        values = pool.map(target, items, chunksize=1)
    return {"seconds": time.perf_counter() - began, "values": values}


def each_case(module: ModuleType, function: str, cases: list) -> list[dict[str, Any]]:
    """Call ``function(*args)`` for each ``args`` of ``cases`` in turn, in this one sandboxed call.

    The fixed edge cases of a check (sizes not divisible by the number of processes, more processes than
    items, one item, empty) cost one sandbox, not one each. Each case's outcome: ``{"value": ...}`` or
    ``{"raised": {type, message, where}}`` (the student's line). Only the return values are evidence here:
    which processes ran is judged from the witness, for the whole call.
    """
    import sys

    from mpgrade_sandboxed import witness
    from mpgrade_sandboxed.locate import describe

    target = require(module, function, "function")
    submission = os.path.dirname(os.path.abspath(module.__file__ or "."))
    outcomes: list[dict[str, Any]] = []
    for index, args in enumerate(cases):
        sys.stderr.write(f"{CASE_MARK}{index}\n")
        sys.stderr.flush()
        witness.send({"m": "case", "index": index})  # when it began: a hang's feedback names this case's processes
        try:
            outcomes.append({"value": target(*args)})
        except Exception as exc:  # noqa: BLE001 - the student's error is the evidence
            outcomes.append({"raised": describe(exc, submission)})
    return outcomes
