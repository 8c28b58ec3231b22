"""Count which multiprocessing APIs student code calls (sandbox side).

Installed in the runner process before the student module is imported; the
counts come home with the call's result. A call counts as "from the
student" when the calling frame is in the submission
(``locate.called_from_student``), so ``Pool`` starting its own workers does
not look like the student starting processes.
Only the runner process is watched, not the student's child processes.
"""
from __future__ import annotations

import functools
import importlib
import os
from typing import Any, Callable

from mpgrade_sandboxed.locate import called_from_student

WATCHED = (
    "multiprocessing.process:BaseProcess.start",
    "multiprocessing.process:BaseProcess.join",
    "multiprocessing.pool:Pool.__init__",
    "multiprocessing.pool:Pool.__enter__",
    "multiprocessing.pool:Pool.close",
    "multiprocessing.pool:Pool.terminate",
    "multiprocessing.pool:Pool.map",
    "multiprocessing.pool:Pool.starmap",
    "multiprocessing.pool:Pool.imap",
    "multiprocessing.pool:Pool.imap_unordered",
    "multiprocessing.pool:Pool.map_async",
    "multiprocessing.pool:Pool.apply_async",
    "multiprocessing.pool:ThreadPool.__init__",
    "multiprocessing.connection:Pipe",
    "multiprocessing.connection:_ConnectionBase.close",
    "multiprocessing.managers:BaseManager.start",
    "multiprocessing.shared_memory:SharedMemory.__init__",
    "multiprocessing.shared_memory:SharedMemory.close",
    "multiprocessing.shared_memory:SharedMemory.unlink",
    "concurrent.futures.process:ProcessPoolExecutor.submit",
    "concurrent.futures.process:ProcessPoolExecutor.shutdown",
    "concurrent.futures.thread:ThreadPoolExecutor.submit",
    "threading:Thread.start",
)


class Spies:
    """Counters for every watched API: total calls, and calls made from submission code."""

    def __init__(self, submission: str) -> None:
        self.root = os.path.realpath(submission)
        self.counts: dict[str, dict[str, int]] = {}
        self.active = False
        self.created_blocks: list[str] = []
        """Names of SharedMemory blocks created in this process while watching."""
        self.child_failures: list[dict[str, Any]] = []
        """Processes the student joined that had exited with a non-zero code."""

    def _wrap(self, key: str, original: Callable) -> Callable:
        spies = self

        @functools.wraps(original)
        def spy(*args: Any, **kwargs: Any) -> Any:
            if spies.active:
                entry = spies.counts.setdefault(key, {"calls": 0, "from_student": 0})
                entry["calls"] += 1
                try:
                    if called_from_student(2, spies.root):
                        entry["from_student"] += 1
                except (ValueError, OSError):
                    pass
            result = original(*args, **kwargs)
            if spies.active and key == "Process.join" and args:
                code = getattr(args[0], "exitcode", None)
                if code and len(spies.child_failures) < 100 and called_from_student(2, spies.root):
                    spies.child_failures.append({"exitcode": code, "name": getattr(args[0], "name", "?")})
            if spies.active and key == "SharedMemory.__init__" and args:
                block = args[0]
                if getattr(block, "_name", None) and (kwargs.get("create") or (len(args) > 2 and args[2])):
                    spies.created_blocks.append(block.name)
            return result

        spy.__mpgrade_spy__ = True  # type: ignore[attr-defined]
        return spy

    def install(self) -> None:
        for target in WATCHED:
            module_name, _, path = target.partition(":")
            try:
                owner: Any = importlib.import_module(module_name)
            except ImportError:
                continue
            *parents, attribute = path.split(".")
            for parent in parents:
                owner = getattr(owner, parent, None)
                if owner is None:
                    break
            original = getattr(owner, attribute, None) if owner is not None else None
            if original is None or getattr(original, "__mpgrade_spy__", False):
                continue
            key = path.replace("BaseProcess", "Process").replace("_ConnectionBase", "Connection")
            setattr(owner, attribute, self._wrap(key, original))

    def snapshot(self) -> dict[str, dict[str, int]]:
        return {key: dict(value) for key, value in self.counts.items()}
