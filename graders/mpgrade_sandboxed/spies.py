"""Count which multiprocessing APIs student code calls (sandbox side).

Installed in the runner process before the student module is imported (each
API's module is patched when first imported: ``afterimport.py``); the counts come home with the call's result. A call counts as "from the
student" when the calling frame is in the submission
(``locate.called_from_student``), so ``Pool`` starting its own workers does
not look like the student starting processes.
Only the runner process is watched, not the student's child processes.
"""
from __future__ import annotations

import functools
import os
from typing import Any, Callable

from mpgrade_sandboxed import afterimport
from mpgrade_sandboxed.locate import called_from_student

WATCHED = {
    "Process.start": "multiprocessing.process:BaseProcess.start",
    "Process.join": "multiprocessing.process:BaseProcess.join",
    "Process.terminate": "multiprocessing.process:BaseProcess.terminate",
    "Pool.__init__": "multiprocessing.pool:Pool.__init__",
    "Pool.__enter__": "multiprocessing.pool:Pool.__enter__",
    "Pool.close": "multiprocessing.pool:Pool.close",
    "Pool.terminate": "multiprocessing.pool:Pool.terminate",
    "Pool.join": "multiprocessing.pool:Pool.join",
    "Pool.apply": "multiprocessing.pool:Pool.apply",
    "Pool.map": "multiprocessing.pool:Pool.map",
    "Pool.starmap": "multiprocessing.pool:Pool.starmap",
    "Pool.imap": "multiprocessing.pool:Pool.imap",
    "Pool.imap_unordered": "multiprocessing.pool:Pool.imap_unordered",
    "Pool.map_async": "multiprocessing.pool:Pool.map_async",
    "Pool.apply_async": "multiprocessing.pool:Pool.apply_async",
    "ThreadPool.__init__": "multiprocessing.pool:ThreadPool.__init__",
    "Pipe": "multiprocessing.connection:Pipe",
    "Connection.close": "multiprocessing.connection:_ConnectionBase.close",
    "BaseManager.start": "multiprocessing.managers:BaseManager.start",
    "SharedMemory.__init__": "multiprocessing.shared_memory:SharedMemory.__init__",
    "SharedMemory.close": "multiprocessing.shared_memory:SharedMemory.close",
    "SharedMemory.unlink": "multiprocessing.shared_memory:SharedMemory.unlink",
    "ProcessPoolExecutor.submit": "concurrent.futures.process:ProcessPoolExecutor.submit",
    "ProcessPoolExecutor.shutdown": "concurrent.futures.process:ProcessPoolExecutor.shutdown",
    "ProcessPoolExecutor.map": "concurrent.futures.process:ProcessPoolExecutor.map",
    "ThreadPoolExecutor.submit": "concurrent.futures.thread:ThreadPoolExecutor.submit",
    "Thread.start": "threading:Thread.start",
}
"""The APIs whose calls are counted: the name graders ask for (``calls(result, "Pool.map")``)
-> where it is defined (``module:attribute path``). APIs, not exercises: a grader
of any exercise can ask about any of them."""


def _joined(spies: Spies, args: tuple, kwargs: dict) -> None:
    """``Process.join`` returned: remember a child the student joined that had failed."""
    code = getattr(args[0], "exitcode", None) if args else None
    if code and len(spies.child_failures) < 100 and called_from_student(3, spies.root):
        spies.child_failures.append({"exitcode": code, "name": getattr(args[0], "name", "?")})


def _starting(spies: Spies, args: tuple, kwargs: dict) -> None:
    """``Process.start`` is called: remember what the student handed the process (types only, never values;
    before the call, since ``start()`` drops its target and arguments once the child runs).

    A numpy array or a list among a worker's arguments is a copy in the child (arguments are pickled):
    feedback can then say that the worker changed its own copy.
    """
    process = args[0] if args else None
    if process is None or len(spies.process_starts) >= 100 or not called_from_student(3, spies.root):
        return
    target = getattr(process, "_target", None)
    spies.process_starts.append({
        "target": getattr(target, "__name__", None) if target is not None else type(process).__name__,
        "arg_types": [type(a).__name__ for a in tuple(getattr(process, "_args", ()) or ())[:12]],
    })


def _opened_block(spies: Spies, args: tuple, kwargs: dict) -> None:
    """``SharedMemory.__init__`` returned: remember a block this process created."""
    block = args[0] if args else None
    if getattr(block, "_name", None) and (kwargs.get("create") or (len(args) > 2 and args[2])):
        spies.created_blocks.append(block.name)


AFTER = {"Process.join": _joined, "SharedMemory.__init__": _opened_block}
"""Evidence some watched APIs leave besides their count, gathered after the call returns."""
BEFORE = {"Process.start": _starting}
"""Evidence gathered before the call runs."""


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
        self.process_starts: list[dict[str, Any]] = []
        """Processes the student started: the target's name and the types of its arguments."""

    def _wrap(self, key: str, original: Callable) -> Callable:
        spies = self
        after = AFTER.get(key)
        before = BEFORE.get(key)

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
            if spies.active and before is not None:
                try:
                    before(spies, args, kwargs)
                except Exception:  # evidence is best effort; the student's call must go on
                    pass
            result = original(*args, **kwargs)
            if spies.active and after is not None:
                after(spies, args, kwargs)
            return result

        spy.__mpgrade_spy__ = True  # type: ignore[attr-defined]
        return spy

    def install(self) -> None:
        """Wrap every watched API: now where its module is imported, else as soon as something imports it."""
        by_module: dict[str, list[tuple[str, str]]] = {}
        for key, target in WATCHED.items():
            module_name, _, path = target.partition(":")
            by_module.setdefault(module_name, []).append((key, path))
        for module_name, entries in by_module.items():
            afterimport.when_imported(module_name, functools.partial(self._wrap_all, entries))

    def _wrap_all(self, entries: list[tuple[str, str]], module: Any) -> None:
        for key, path in entries:
            owner: Any = module
            *parents, attribute = path.split(".")
            for parent in parents:
                owner = getattr(owner, parent, None)
                if owner is None:
                    break
            original = getattr(owner, attribute, None) if owner is not None else None
            if original is None or getattr(original, "__mpgrade_spy__", False):
                continue
            setattr(owner, attribute, self._wrap(key, original))

    def snapshot(self) -> dict[str, dict[str, int]]:
        return {key: dict(value) for key, value in self.counts.items()}
