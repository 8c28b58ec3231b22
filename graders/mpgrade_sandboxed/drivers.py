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

from mpgrade_sandboxed.locate import student_site

__all__ = ["process_subclass_with_queue", "value_discipline", "array_discipline", "serial_map",
           "engine_pool_map"]


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


class SpyLock:
    """Wraps a real lock and knows whether, and in which continuous hold, it is held."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.depth = 0
        self.holds = 0

    def acquire(self, *args: Any, **kwargs: Any) -> bool:
        acquired = self.real.acquire(*args, **kwargs)
        if acquired:
            self.depth += 1
            if self.depth == 1:
                self.holds += 1
        return acquired

    def release(self) -> None:
        self.depth -= 1
        self.real.release()

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, *exc: Any) -> None:
        self.release()

    def hold(self) -> int | None:
        """The number of the current continuous hold, or None when not held."""
        return self.holds if self.depth > 0 else None


class _Recorder:
    def __init__(self, lock: SpyLock) -> None:
        self.lock = lock
        self.events: list[tuple[str, int | None]] = []
        self.first_unlocked: dict[str, Any] | None = None

    def note(self, op: str) -> None:
        hold = self.lock.hold()
        if len(self.events) < 1_000_000:
            self.events.append((op, hold))
        if hold is None and self.first_unlocked is None:
            self.first_unlocked = {"op": op, **student_site()}

    def summary(self) -> dict[str, Any]:
        """Writes without the lock, and read-then-write pairs split across holds."""
        unlocked_writes = sum(1 for op, hold in self.events if op == "write" and hold is None)
        split = 0
        last_read: int | None | str = "none"
        for op, hold in self.events:
            if op == "read":
                last_read = hold
            elif op == "write":
                if last_read != "none" and (last_read is None or last_read != hold):
                    split += 1
                last_read = "none"
        write_holds = {hold for op, hold in self.events if op == "write" and hold is not None}
        return {"writes": sum(1 for op, _ in self.events if op == "write"),
                "reads": sum(1 for op, _ in self.events if op == "read"),
                "unlocked_writes": unlocked_writes, "split_read_writes": split,
                "write_holds": len(write_holds), "lock_holds": self.lock.holds,
                "first_unlocked": self.first_unlocked}


class _SpyShared:
    """The lock side of the recording stand-ins: get_lock, acquire, release, get_obj."""

    def __init__(self, shared: Any) -> None:
        self._shared = shared
        self._lock = SpyLock(shared.get_lock())
        self._recorder = _Recorder(self._lock)

    def get_lock(self) -> SpyLock:
        return self._lock

    def acquire(self, *args: Any, **kwargs: Any) -> bool:
        return self._lock.acquire(*args, **kwargs)

    def release(self) -> None:
        self._lock.release()

    def get_obj(self) -> Any:
        return self._shared.get_obj()


class SpyValue(_SpyShared):
    """Stands in for ``multiprocessing.Value`` in one process, recording each read and write."""

    def __init__(self, typecode: str, initial: Any) -> None:
        super().__init__(multiprocessing.Value(typecode, initial))

    @property
    def value(self) -> Any:
        self._recorder.note("read")
        return self._shared.get_obj().value

    @value.setter
    def value(self, new: Any) -> None:
        self._recorder.note("write")
        self._shared.get_obj().value = new


class SpyArray(_SpyShared):
    """Stands in for ``multiprocessing.Array`` in one process, recording each element read and write."""

    def __init__(self, typecode: str, values: list) -> None:
        super().__init__(multiprocessing.Array(typecode, values))

    def __len__(self) -> int:
        return len(self._shared.get_obj())

    def __getitem__(self, index: Any) -> Any:
        self._recorder.note("read")
        return self._shared.get_obj()[index]

    def __setitem__(self, index: Any, value: Any) -> None:
        self._recorder.note("write")
        self._shared.get_obj()[index] = value

    def __iter__(self) -> Any:
        return iter(self[:])


def value_discipline(module: ModuleType, function: str, n: int, typecode: str = "i") -> dict[str, Any]:
    """Call ``function(counter, n)`` in this process on a recording Value; report how it was locked."""
    target = require(module, function, "function")
    counter = SpyValue(typecode, 0)
    target(counter, n)
    return {"value": counter.get_obj().value, **counter._recorder.summary()}


def array_discipline(module: ModuleType, function: str, values: list, times: int,
                     typecode: str = "d") -> dict[str, Any]:
    """Call ``function(shared, times)`` in this process on a recording Array; report how it was locked."""
    target = require(module, function, "function")
    shared = SpyArray(typecode, values)
    target(shared, times)
    return {"values": list(shared.get_obj()), **shared._recorder.summary()}


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
