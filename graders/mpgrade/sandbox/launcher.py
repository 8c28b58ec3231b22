"""Run one call into student code in a sandbox and bring back plain data (trusted side).

This runs in the grading process. It never imports student code: it writes
a request file, starts the supervisor (a fresh interpreter) that starts the
runner, and reads two pipes until the supervisor exits, which it does only
once every process of the call is dead:

    launcher (grading process)                   sandbox
    -------------------------                    -------
    request.json  ------------------------------> runner reads it
    result pipe (read end)  <-------------------- runner: framed JSON
    supervisor stdout  <------------------------- supervisor: one JSON verdict
    stdout.txt / stderr.txt  <------------------- student output (files, capped on read)

A backstop deadline covers a supervisor that itself misbehaves: the launcher
then kills the supervisor's whole session from here.
"""
from __future__ import annotations

import json
import os
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mpgrade_sandboxed import plaindata, proctree
from mpgrade_sandboxed.protocol import (Imported, Phase, Result, RunRequest, Started, Status, SupervisorConfig,
                                        Verdict, decode, read_frames)
from mpgrade_sandboxed.runner import BOOT

from .. import cpulock
from . import namespaces
from .capture import CapturedOutput, read_capped

MAX_PIPE_BYTES = 16 * 1024 * 1024
BACKSTOP_S = 10.0
GRACE_S = 1.0
SUPERVISOR = Path(__file__).with_name("supervisor.py")
RUNTIME_SOURCE = Path(__file__).resolve().parents[2] / "mpgrade_sandboxed"
_runtime_copy: Path | None = None


def runtime_parent() -> Path:
    """A private copy of ``mpgrade_sandboxed``, made once per grading process: the only engine code the sandbox sees.

    The sandbox imports its runtime from here, not from ``graders/``, so neither
    its import path nor ``mpgrade_sandboxed.__file__`` leads a relative path away
    to the grader modules, hidden graders or ``solutions/``.
    """
    global _runtime_copy
    if _runtime_copy is None or not (_runtime_copy / "mpgrade_sandboxed").is_dir():
        import atexit

        folder = Path(tempfile.mkdtemp(prefix="mpgrade-sandboxed-"))
        shutil.copytree(RUNTIME_SOURCE, folder / "mpgrade_sandboxed", ignore=shutil.ignore_patterns("__pycache__"))
        atexit.register(shutil.rmtree, folder, True)
        _runtime_copy = folder
    return _runtime_copy



@dataclass(frozen=True)
class Limits:
    """Resource limits of one sandboxed call (each process, and the call's processes together).

    Defaults let every reference solution pass with a wide margin: a Pool of
    a few workers with numpy needs ~20 processes and a few hundred MB.
    """

    max_processes: int = 100
    """Live processes of the call at once (counted by the supervisor; cgroup pids.max where writable)."""
    max_memory_mb: int = 4096
    """Resident memory of the call's processes together (watchdog; cgroup memory cap where writable)."""
    address_space_mb: int = 2048
    """RLIMIT_AS per process: a 20 GB allocation fails at once with MemoryError (numpy needs ~300 MB)."""
    file_size_mb: int = 256
    """RLIMIT_FSIZE: an output flood or a huge file stops with an error; room for SharedMemory exercises."""
    open_files: int = 1024
    """RLIMIT_NOFILE per process."""

    def rlimits(self, timeout_s: float) -> dict[str, int]:
        return {"RLIMIT_CORE": 0, "RLIMIT_FSIZE": self.file_size_mb * 2**20,
                "RLIMIT_AS": self.address_space_mb * 2**20, "RLIMIT_NOFILE": self.open_files,
                # CPU seconds per process: a backstop only; the wall-clock deadline is what stops a call.
                "RLIMIT_CPU": int(timeout_s) + 30}
SANDBOX_ENV = {
    # One BLAS thread per process: students' numpy must not oversubscribe the CPUs.
    "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
    "PYTHONDONTWRITEBYTECODE": "1", "PYTHONUNBUFFERED": "1",
}


@dataclass(frozen=True)
class CallRequest:
    """One call into a student module."""

    submission: Path
    """Folder holding the student's modules."""
    module: str
    """Module name, e.g. ``ex01_processes``."""
    target: str
    """Function name, or driver name when ``kind`` is "driver"."""
    kind: str = "function"
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    start_method: str = "spawn"
    timeout_s: float = 20.0
    races: bool = False
    """Hand out tracked shared objects and locks, and record how they were used."""
    limits: Limits = Limits()
    namespaces: str = "auto"
    """"auto": inside bubblewrap where it works (see ``namespaces``); "off": never."""


@dataclass
class CallResult:
    """Everything a call left behind, as plain data."""

    status: Status
    """How the call ended (a ``str``: compares equal to "returned", "raised", ...; see ``Status``)."""
    phase: Phase
    """How far the runner got: starting, importing, calling, done (see ``Phase``)."""
    value: Any = None
    """The decoded return value, when status is "returned"."""
    error: dict | None = None
    """For raised/import_error: type, message, where (file, line, source, todo)."""
    detail: dict = field(default_factory=dict)
    """Status-specific facts (missing name, unencodable reason, ...)."""
    seconds: float | None = None
    """Time inside the student function, measured in the sandbox (student code could fake its clock)."""
    outside_seconds: float | None = None
    """The same span seen from the grading process: from the "imported" message to the result's arrival.
    Student code cannot shorten it by patching clocks; it includes a few ms of the runner's bookkeeping."""
    self_cpu_s: float | None = None
    """CPU time of the calling process (and its threads) during the call."""
    children_cpu_s: float | None = None
    """CPU time of the caller's children reaped during the call (joined worker processes)."""
    api_calls: dict = field(default_factory=dict)
    """multiprocessing APIs called during the call: {"Pool.map": {"calls": n, "from_student": m}}."""
    import_api_calls: dict = field(default_factory=dict)
    """The same, while the module was being imported."""
    child_failures: list = field(default_factory=list)
    """Child processes the student joined that had exited with a non-zero code."""
    races: list = field(default_factory=list)
    """Per-process facts on shared-object use (see mpgrade_sandboxed.races), when asked for."""
    shm_left: list = field(default_factory=list)
    """SharedMemory blocks the caller created and had not unlinked when it returned."""
    evidence: list = field(default_factory=list)
    """Records left by grader tasks (pid, ppid, start, end, cpu_s)."""
    live_children: list = field(default_factory=list)
    """Processes still running when the student function returned."""
    killed: list = field(default_factory=list)
    """Processes the supervisor had to kill after the call."""
    left_alive: list = field(default_factory=list)
    """PIDs that survived every kill sweep (should always be empty)."""
    exitcode: int | None = None
    timed_out: bool = False
    limit: str | None = None
    """"processes" or "memory" when the call was stopped for exceeding that limit."""
    supervision: dict = field(default_factory=dict)
    """The supervisor's figures: cgroup mode, peak processes and memory, limits, /dev/shm entries swept."""
    elapsed_s: float = 0.0
    stdout: CapturedOutput = CapturedOutput("", 0, False)
    stderr: CapturedOutput = CapturedOutput("", 0, False)
    runner_pid: int | None = None


def _arrival(arrivals: list[tuple[int, float]], end: int) -> float | None:
    """When the byte before offset ``end`` reached us (``arrivals``: bytes received so far, monotonic time)."""
    for received, when in arrivals:
        if received >= end:
            return when
    return None


def _sandbox_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYTEST", "PYTHON", "MPGRADE", "COV_CORE"))}
    env.update(SANDBOX_ENV)
    return env


def run_call(request: CallRequest) -> CallResult:
    """Run ``request`` in a fresh sandbox; return once nothing of it is left running.

    Runs on the CPUs ``cpulock`` allows: never on those of another process's
    speedup measurement, and only on its own measurement's CPUs inside one.
    """
    workdir = Path(tempfile.mkdtemp(prefix="mpgrade-call-"))
    try:
        with cpulock.shared() as cpus:
            return _run_in(workdir, request, cpus)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _run_in(workdir: Path, request: CallRequest, cpus: tuple[int, ...] | None = None) -> CallResult:
    scratch = workdir / "cwd"
    evidence = workdir / "evidence"
    scratch.mkdir()
    evidence.mkdir()
    read_fd, write_fd = os.pipe()
    runner_request = RunRequest(
        submission=str(Path(request.submission).resolve()), module=request.module, kind=request.kind,
        target=request.target, args=plaindata.to_plain(list(request.args)),
        kwargs=plaindata.to_plain(dict(request.kwargs)), start_method=request.start_method, races=request.races,
        evidence_dir=str(evidence), result_fd=write_fd,
    )
    (workdir / "request.json").write_text(json.dumps(runner_request.to_plain()), encoding="utf-8")
    env = _sandbox_env()
    env["HOME"] = env["TMPDIR"] = str(scratch)
    mark = uuid.uuid4().hex
    env[proctree.CALL_MARK] = mark
    if cpus:
        env["PYTHON_CPU_COUNT"] = str(len(cpus))  # os.cpu_count() in the student's code (Python 3.13+)
    argv = [sys.executable, "-I", "-B", "-c", BOOT, str(runtime_parent()), str(workdir / "request.json")]
    if namespaces.wanted(request.namespaces):
        argv = namespaces.command(argv, workdir, Path(request.submission), [runtime_parent()])
    config = SupervisorConfig(
        argv=argv, cwd=str(scratch), env=env, stdout=str(workdir / "stdout.txt"),
        stderr=str(workdir / "stderr.txt"), timeout_s=request.timeout_s, grace_s=GRACE_S, result_fd=write_fd,
        runtime_parent=str(runtime_parent()), rlimits=request.limits.rlimits(request.timeout_s),
        max_processes=request.limits.max_processes, max_memory_mb=request.limits.max_memory_mb,
        cpus=list(cpus or ()),
    )
    (workdir / "supervisor.json").write_text(json.dumps(config.to_plain()), encoding="utf-8")
    supervisor = subprocess.Popen(
        [sys.executable, "-I", str(SUPERVISOR), str(runtime_parent()), str(workdir / "supervisor.json")],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=open(workdir / "supervisor.err", "wb"), pass_fds=(write_fd,),
        start_new_session=True, close_fds=True,
    )
    os.close(write_fd)
    result_bytes, verdict_bytes = bytearray(), bytearray()
    arrivals: list[tuple[int, float]] = []
    overflow = False
    selector = selectors.DefaultSelector()
    os.set_blocking(read_fd, False)
    selector.register(read_fd, selectors.EVENT_READ, "result")
    selector.register(supervisor.stdout, selectors.EVENT_READ, "verdict")
    backstop = time.monotonic() + request.timeout_s + GRACE_S + BACKSTOP_S
    supervisor_done = False
    try:
        while not supervisor_done:
            remaining = backstop - time.monotonic()
            if remaining <= 0:
                proctree.kill_session(supervisor.pid)
                break
            for key, _ in selector.select(timeout=min(remaining, 0.5)):
                if key.data == "result":
                    try:
                        chunk = os.read(read_fd, 65536)
                    except BlockingIOError:
                        continue
                    if not chunk:
                        selector.unregister(read_fd)
                    elif len(result_bytes) + len(chunk) <= MAX_PIPE_BYTES:
                        result_bytes += chunk
                        arrivals.append((len(result_bytes), time.monotonic()))
                    else:
                        overflow = True
                else:
                    chunk = os.read(supervisor.stdout.fileno(), 65536)
                    if chunk:
                        verdict_bytes += chunk
                    else:
                        supervisor_done = True
        # The runner's messages were all written before the supervisor finished.
        try:
            while chunk := os.read(read_fd, 65536):
                if len(result_bytes) + len(chunk) > MAX_PIPE_BYTES:
                    overflow = True
                    break
                result_bytes += chunk
                arrivals.append((len(result_bytes), time.monotonic()))
        except BlockingIOError:
            pass
    finally:
        selector.close()
        os.close(read_fd)
        try:
            supervisor.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proctree.kill_session(supervisor.pid)
            supervisor.wait(timeout=5)
        supervisor.stdout.close()
    if not verdict_bytes.strip():  # killed before its verdict (by student code?): its call may live on
        proctree.sweep_call(mark, supervisor.pid)
    framed = read_frames(bytes(result_bytes))
    result = _assemble(workdir, [message for message, _ in framed], verdict_bytes, overflow)
    ends = {message.get("event"): end for message, end in framed}
    if Imported.event in ends and Result.event in ends and result.status != Status.TAMPERED:
        began, ended = _arrival(arrivals, ends[Imported.event]), _arrival(arrivals, ends[Result.event])
        if began is not None and ended is not None:
            result.outside_seconds = ended - began
    if not verdict_bytes.strip() and supervisor.returncode == -signal.SIGKILL and result.runner_pid:
        result.status, result.detail = Status.CRASHED, {"supervisor_killed": True}
    return result


def _assemble(workdir: Path, messages: list[dict], verdict_bytes: bytes, overflow: bool) -> CallResult:
    try:
        verdict = Verdict.from_output(verdict_bytes)
    except ValueError:
        err = read_capped(str(workdir / "supervisor.err")).text
        verdict = Verdict(supervisor_error=err[-2000:])
    decoded = [decode(message) for message in messages]
    sent = {type(message): message for message in decoded if message is not None}
    phase = Phase.STARTING
    if Started in sent:
        phase = Phase.IMPORTING
    if Imported in sent:
        phase = Phase.CALLING
    started = sent.get(Started)
    result = CallResult(
        status=Status.SANDBOX_ERROR, phase=phase,
        exitcode=verdict.exitcode, timed_out=bool(verdict.timed_out), limit=verdict.limit,
        supervision=verdict.supervision(), elapsed_s=float(verdict.elapsed_s or 0.0),
        killed=list(verdict.killed or []), left_alive=list(verdict.left_alive or []),
        stdout=read_capped(str(workdir / "stdout.txt")),
        stderr=read_capped(str(workdir / "stderr.txt")),
        runner_pid=started.pid if started else None,
    )
    final = sent.get(Result)
    sent_twice = len(sent) < len(decoded) - decoded.count(None)
    if result.limit:  # whatever was sent (forked copies of the runner may send too), the call was stopped
        result.status = Status.LIMIT
        result.detail = {"limit": result.limit, **result.supervision}
    elif sent_twice or None in decoded:
        # The runner sends each message once; anything else was written by student code.
        result.status, result.detail = Status.TAMPERED, {"messages": len(messages)}
    elif final is not None:
        imported = sent.get(Imported)
        result.phase = Phase.DONE
        result.status = final.status
        result.error = final.error
        result.seconds = final.seconds
        result.self_cpu_s = final.self_cpu_s
        result.children_cpu_s = final.children_cpu_s
        result.api_calls = final.api_calls
        result.import_api_calls = final.import_api_calls or (imported.api_calls if imported else {})
        result.shm_left = final.shm_left
        result.evidence = final.evidence
        result.races = final.races
        result.child_failures = final.child_failures
        result.live_children = final.live_children
        if result.status == Status.RETURNED:
            try:
                result.value = plaindata.loads(json.dumps(final.value))
            except ValueError as exc:
                result.status, result.detail = Status.UNENCODABLE, {"reason": str(exc)}
        elif result.status in (Status.MISSING, Status.UNENCODABLE, Status.RUNTIME_ERROR):
            result.detail = final.detail
    elif overflow:
        result.status, result.detail = Status.UNENCODABLE, {"reason": "the sandbox sent more than 16 MB"}
    elif result.timed_out:
        result.status = Status.TIMEOUT
    elif verdict.supervisor_error is not None:
        result.status, result.detail = Status.SANDBOX_ERROR, {"reason": verdict.supervisor_error}
    else:
        result.status = Status.CRASHED
    return result
