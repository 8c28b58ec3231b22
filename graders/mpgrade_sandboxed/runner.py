"""The sandboxed runner: imports one student module and makes one call (sandbox side).

This runs in a fresh interpreter started by the supervisor, in its own
session, with stdout and stderr going to size-limited files. It reads a
:class:`~mpgrade_sandboxed.protocol.RunRequest`, sends ``Started``,
``Imported`` and ``Result`` messages on the result pipe (an inherited file
descriptor owned by the trusted side; see ``protocol.py`` for the whole
exchange) and then leaves with ``os._exit``: whatever student processes are
still alive are the supervisor's to kill.

It runs past 300 lines on purpose: the runner's whole start-up order (import path,
confinement, spies, the call, leaving) reads top to bottom in one place.
"""
from __future__ import annotations

import dataclasses
import importlib
import json
import multiprocessing
import os
import sys
import threading
import time
from typing import Any, Callable

from mpgrade_sandboxed import drivers, locate, plaindata, poolwatch, proctree, tasks, waits, witness
from mpgrade_sandboxed.locate import describe, module_level_frame
from mpgrade_sandboxed.protocol import Imported, Message, Result, RunRequest, Started, Status, write_frame
from mpgrade_sandboxed.spies import Spies

MAX_RESULT_BYTES = 8 * 1024 * 1024


class Channel:
    """The write end of the result pipe: messages in order, and one Result at most (a pool's thread may end the
    call while the main thread still waits)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.lock = threading.Lock()
        self.finished = False

    def send(self, message: Message) -> None:
        with self.lock:
            if self.finished:
                return
            write_frame(self.fd, message)
            self.finished = isinstance(message, Result)


def _resolve_tasks(value: Any) -> Any:
    if isinstance(value, plaindata.TaskRef):
        if value.name not in tasks.__all__:
            raise ValueError(f"unknown grader task {value.name!r}")
        return getattr(tasks, value.name)
    if isinstance(value, list):
        return [_resolve_tasks(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_resolve_tasks(v) for v in value)
    if isinstance(value, dict):
        return {k: _resolve_tasks(v) for k, v in value.items()}
    return value


def _evidence(folder: str, prefix: str = "") -> list[dict[str, Any]]:
    """The JSON records in ``folder``: task records, or with ``prefix="races-"`` race facts."""
    records = []
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return records
    for name in names:
        if name.startswith(".") or not name.endswith(".json") or name.startswith("races-") != bool(prefix):
            continue
        try:
            with open(os.path.join(folder, name), encoding="utf-8") as handle:
                records.append(json.load(handle))
        except (OSError, ValueError):
            continue
        if len(records) >= 10_000:
            break
    return records


def _children_cpu() -> float:
    """CPU seconds of this process's reaped children (joined workers).

    Under forkserver the workers are children of the fork server, which reaps
    them: their CPU time is the fork server's children time (read from /proc
    through ``proctree``, not psutil, which the sandbox's runtime need not have).
    """
    times = os.times()
    total = times.children_user + times.children_system
    try:
        from multiprocessing import forkserver

        pid = getattr(forkserver._forkserver, "_forkserver_pid", None)
    except Exception:  # student code may have replaced the module
        pid = None
    if isinstance(pid, int) and pid > 0:
        server = proctree.proc_stat(pid)
        if server is not None:
            total += server.children_ticks / proctree.TICKS_PER_S
    return total


def _blocks_left(names: list[str]) -> list[str]:
    """The SharedMemory blocks among ``names`` that still exist (Linux: in /dev/shm)."""
    left = []
    for name in names:
        if os.path.exists(os.path.join("/dev/shm", name.lstrip("/"))):
            left.append(name.lstrip("/"))
    return sorted(set(left))


def _live_children() -> list[dict[str, Any]]:
    """Processes the call left running, apart from multiprocessing's own helpers (a fork server's workers count)."""
    found = []
    for pid in proctree.descendants():
        cmdline = proctree.cmdline(pid)
        if proctree.is_helper(cmdline, proctree.parent_command(pid)):
            continue
        found.append({"pid": pid, "cmdline": cmdline[:200]})
    return found


class StartedAtImport(Exception):
    """Student code started a process, pool or executor while being imported as ``__mp_main__``."""


def _trap_process_creation() -> None:
    """Make creating processes, pools and executors raise (as a spawned child's import would misbehave)."""
    import concurrent.futures.process
    import multiprocessing.pool
    import multiprocessing.process

    def trap(what: str):
        def refuse(*args: Any, **kwargs: Any) -> None:
            raise StartedAtImport(f"{what} while the module was being imported")
        return refuse

    multiprocessing.process.BaseProcess.start = trap("a Process was started")  # type: ignore[method-assign]
    multiprocessing.pool.Pool.__init__ = trap("a Pool was created")  # type: ignore[method-assign]
    concurrent.futures.process.ProcessPoolExecutor.__init__ = trap("a ProcessPoolExecutor was created")  # type: ignore[method-assign]


def _default_start_method(method: str) -> None:
    """Make ``method`` the platform's default start method, as if Python had chosen it, without choosing it.

    ``set_start_method(method, force=True)`` would fix the context, so a student's own
    ``set_start_method("spawn")`` under the ``__main__`` guard (the Python documentation's pattern) would raise
    "context has already been set", which ``python file.py`` never does. Here the default context only
    changes its default: ``get_start_method()`` answers ``method``, and the student may still set another
    (``get_context``, ``freeze_support`` and ``set_executable`` work as they do anywhere).
    """
    from multiprocessing import context

    default = context._default_context
    default._default_context = context._concrete_contexts[method]  # type: ignore[attr-defined]
    default._actual_context = None  # type: ignore[attr-defined]


def _run_script(path: str, spies: Spies, run_name: str = "__main__") -> Result:
    """Run the student's file as ``python FILE`` would (or import it as spawn's children do)."""
    import runpy

    sys.argv = [path]
    began = time.perf_counter()
    spies.active = True
    exit_code: Any = 0
    status, error = Status.RETURNED, None
    try:
        runpy.run_path(path, run_name=run_name)
    except SystemExit as exc:
        exit_code = exc.code if isinstance(exc.code, int) or exc.code is None else 1
    except BaseException as exc:
        status, error = Status.RAISED, describe(exc, os.path.dirname(path))
        if isinstance(exc, StartedAtImport):
            error["where"] = module_level_frame(exc, os.path.dirname(path)) or error["where"]
    spies.active = False
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    return Result(status, error=error, value={"exit_code": exit_code or 0}, seconds=time.perf_counter() - began,
                  api_calls=spies.snapshot(), live_children=_live_children(),
                  child_failures=spies.child_failures, process_starts=spies.process_starts,
                  shm_left=_blocks_left(spies.created_blocks))


def _missing(missing: drivers.MissingName) -> Result:
    return Result(Status.MISSING, detail={"name": missing.name, "kind": missing.kind, "found": missing.found})


def _end_pool_loop(channel: Channel, submission: str, phase: list[str]) -> Callable[[dict[str, Any]], None]:
    """What ``poolwatch`` does once the runner's pools keep losing their workers: send the Result and leave
    (from the pool's thread; the main thread waits on the Pool and never returns)."""

    def end(facts: dict[str, Any]) -> None:
        if phase[0] == "done":  # the function returned: its own result stands
            return
        importing = phase[0] == "import"
        where = locate.waiting_frame(poolwatch.main_thread_frame(), submission, module_level=importing)
        if phase[0] == "call":
            witness.call_mark("end")
        kind = poolwatch.DEADLOCK_TYPE if facts.get("deadlock") else poolwatch.ERROR_TYPE
        error = {"type": kind, "message": poolwatch.message(facts), "where": where}
        channel.send(Result(Status.IMPORT_ERROR if importing else Status.RAISED, error=error))
        _leave()

    return end


def run(request: RunRequest, channel: Channel) -> Result:
    submission = os.path.realpath(request.submission)
    # Student files come after the standard library and the probe, so a
    # student's random.py or json.py cannot replace a module we rely on.
    sys.path.append(submission)
    os.environ[tasks.EVIDENCE_ENV] = request.evidence_dir
    os.environ[locate.SUBMISSION_ENV] = submission
    if request.witness_path:
        # Before any student code: the witness learns the runner's PID (in its own PID namespace) from the kernel.
        os.environ[witness.WITNESS_ENV] = request.witness_path
        if witness.hello():
            witness.install_child_hooks()
        else:  # nobody listens (no AF_UNIX here): the evidence from inside is all there is, so tasks must leave it
            del os.environ[witness.WITNESS_ENV]
    stacks = os.path.join(request.evidence_dir, "stacks") if request.evidence_dir else ""
    if stacks and os.path.isdir(stacks):  # each process of the call writes its Python stack there when asked
        os.environ[waits.STACKS_ENV] = stacks
        waits.arm_forks()
    if request.confine:  # last before student code: from here on, this process and all it starts are confined
        from mpgrade_sandboxed import landlock

        try:
            landlock.restrict(request.confine.get("read", []), request.confine.get("write", []))
        except landlock.NotConfined as refused:
            return Result(Status.RUNTIME_ERROR, detail={"reason": f"confinement refused: {refused}"})
    _default_start_method(request.start_method)
    spies = Spies(submission)
    spies.install()
    phase = ["script" if request.kind in ("script", "mp_main_import") else "import"]
    poolwatch.install(_end_pool_loop(channel, submission, phase))
    if request.races:
        from mpgrade_sandboxed import lockwatch  # only race checks record locking (~10 ms of imports)

        os.environ[lockwatch.RUNNER_ENV] = str(os.getpid())
        lockwatch.install()
    channel.send(Started(os.getpid()))

    if request.kind in ("script", "mp_main_import"):
        path = os.path.join(submission, request.module + ".py")
        if request.kind == "mp_main_import":
            _trap_process_creation()
            return _run_script(path, spies, run_name="__mp_main__")
        return _run_script(path, spies)

    began = time.perf_counter()
    spies.active = True
    try:
        module = importlib.import_module(request.module)
    except BaseException as exc:  # SystemExit and KeyboardInterrupt at import too
        return Result(Status.IMPORT_ERROR, error=describe(exc, submission), import_api_calls=spies.snapshot())
    spies.active = False
    import_calls = spies.snapshot()
    spies.counts.clear()
    channel.send(Imported(time.perf_counter() - began, import_calls))

    try:
        args = _resolve_tasks(plaindata.loads(json.dumps(request.args)))
        kwargs = _resolve_tasks(plaindata.loads(json.dumps(request.kwargs)))
        if request.kind == "driver":
            if request.target not in drivers.__all__:
                raise ValueError(f"unknown driver {request.target!r}")
            function = getattr(drivers, request.target)
            args = [module, *args]
        else:
            function = drivers.require(module, request.target, "function")
    except drivers.MissingName as missing:
        return _missing(missing)

    phase[0] = "call"
    witness.call_mark("begin")
    began = time.perf_counter()
    cpu_began, children_began = time.process_time(), _children_cpu()
    spies.active = True
    try:
        value = function(*args, **kwargs)
    except drivers.MissingName as missing:
        return _missing(missing)
    except BaseException as exc:
        outcome = Result(Status.RAISED, error=describe(exc, submission))
    else:
        try:
            outcome = Result(Status.RETURNED, value=plaindata.to_plain(value))
            if len(json.dumps(outcome.value)) > MAX_RESULT_BYTES:
                outcome = Result(Status.UNENCODABLE, detail={"reason": "the returned value is larger than 8 MB"})
        except BaseException as exc:
            outcome = Result(Status.UNENCODABLE, detail={"reason": f"{type(exc).__name__}: {exc}"[:300]})
    spies.active = False
    phase[0] = "done"
    seconds = time.perf_counter() - began
    children_cpu_s = _children_cpu() - children_began
    api_calls = spies.snapshot()
    live_children = _live_children()
    # The witness reads the kernel's figures here: after the children's CPU and the processes left running
    # were taken (so an honest report never exceeds its figures), before the caller's own CPU (so an honest
    # report never falls short of it, even while other threads of this process keep running).
    witness.call_mark("end")
    self_cpu_s = time.process_time() - cpu_began
    lockwatch = sys.modules.get("mpgrade_sandboxed.lockwatch")  # imported by a race check or a driver
    if lockwatch is not None:
        lockwatch.flush()
    return dataclasses.replace(
        outcome, seconds=seconds, self_cpu_s=self_cpu_s, children_cpu_s=children_cpu_s, api_calls=api_calls,
        child_failures=spies.child_failures, process_starts=spies.process_starts, import_api_calls=import_calls,
        evidence=_evidence(request.evidence_dir), races=_evidence(request.evidence_dir, prefix="races-"),
        live_children=live_children, shm_left=_blocks_left(spies.created_blocks))


def main(request_path: str) -> None:
    with open(request_path, encoding="utf-8") as handle:
        request = RunRequest.from_plain(json.load(handle))
    channel = Channel(request.result_fd)
    try:
        channel.send(run(request, channel))
    except BaseException as exc:  # a bug here must still come home as data
        try:
            channel.send(Result(Status.RUNTIME_ERROR, detail={"reason": f"{type(exc).__name__}: {exc}"[:500]}))
        except OSError:
            pass
    finally:
        _leave()


def _leave() -> None:
    """Flush the student's output and exit at once, skipping multiprocessing's exit handlers: they would join
    student processes that may never end. The supervisor reaps them."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:
            pass
    os._exit(0)


def _installed_only(path: list[str]) -> list[str]:
    """``path`` without what is not part of the Python installation (e.g. an editable install's kit folder)."""
    prefixes = tuple(os.path.join(os.path.realpath(p), "") for p in {sys.prefix, sys.base_prefix, sys.exec_prefix})
    return [p for p in path if p and os.path.join(os.path.realpath(p), "").startswith(prefixes)]


BOOT = (
    "import sys; sys.path.insert(0, sys.argv[1]);"
    "from mpgrade_sandboxed import runner; runner.hide_the_kit(); runner.main(sys.argv[2])"
)
"""Source for ``python -I -c``: the runner's ``__main__`` has no file, so spawn
and forkserver children never re-import it."""


def become_fresh(runtime_parent: str, request_path: str) -> None:
    """In a warm runner (``warmstart.py``, forked from the template's state): what ``python -I -B -c BOOT``
    would start with, where the fork left the template's. Spawn and forkserver children must not re-import a
    ``__main__`` file (the template's), nor a student find the trusted modules, nor two calls share a random
    sequence or a multiprocessing authentication key.
    """
    import io
    import itertools
    import types

    sys.modules["__main__"] = types.ModuleType("__main__")
    sys.argv[:] = ["-c", runtime_parent, request_path]
    sys.dont_write_bytecode = True
    sys.stdin = sys.__stdin__ = io.TextIOWrapper(io.FileIO(0, "r", closefd=False))
    sys.stdout = sys.__stdout__ = io.TextIOWrapper(io.FileIO(1, "w", closefd=False))
    sys.stderr = sys.__stderr__ = io.TextIOWrapper(io.FileIO(2, "w", closefd=False), errors="backslashreplace",
                                                   line_buffering=True)
    allowed = tuple(os.path.join(os.path.realpath(p), "")
                    for p in {sys.prefix, sys.base_prefix, sys.exec_prefix, runtime_parent})
    for name, module in list(sys.modules.items()):
        where = getattr(module, "__file__", None)
        if where and not os.path.realpath(where).startswith(allowed):  # the supervisor, the template
            del sys.modules[name]
    sys.path[:] = [runtime_parent, *[p for p in sys.path if p != runtime_parent]]
    if "random" in sys.modules:
        sys.modules["random"].seed()
    from multiprocessing import process

    process._current_process = type(process._current_process)()  # a new MainProcess: its own authkey
    process._parent_process = None
    process._children = set()
    process._process_counter = itertools.count(1)


def hide_the_kit() -> None:
    """Keep only the installation and the private probe copy on the import path.

    An editable install puts the kit's ``graders/`` folder on every
    interpreter's path (a ``.pth`` file) or a finder on ``sys.meta_path``;
    student code must not import the engine or the grader modules from there,
    nor find ``solutions/`` a relative path away from them.
    """
    probe = sys.path[0]
    sys.path[:] = [probe, *_installed_only(sys.path[1:])]
    sys.meta_path[:] = [finder for finder in sys.meta_path
                        if not type(finder).__module__.startswith("__editable__")]
    for name in [m for m in sys.modules if m == "mpgrade" or m.startswith("mpgrade.")]:
        del sys.modules[name]
