"""The sandbox protocol: every message between launcher, supervisor and runner (all three processes).

Each process that takes part imports this module: the launcher in the
grading process, the supervisor (from the private runtime copy, by adding
it to ``sys.path``) and the runner next to student code. Standard library
only, and nothing from ``mpgrade``. It runs past 300 lines on purpose: both
halves of every message (building and reading) stay in one module, as
``multiprocessing/forkserver.py`` keeps its wire format, so no side can
drift from the other.

    grading process                  supervisor process               runner process (student code)
    mpgrade/sandbox/launcher.py      mpgrade/sandbox/supervisor.py    mpgrade_sandboxed/runner.py
    (eventloop.py, classify.py)
    ===========================      =============================    ===========================
    SupervisorConfig --- file ------> starts the runner (rlimits,
                                      cgroup, session, files)  -----> (exec python -c BOOT)
    RunRequest ---------- file -------------------------------------> imports, calls
          ^                                                                |
          |<----------- result pipe (frames: write_frame/read_frames) -----+
          |             Started, Imported, Result (each at most once, in order)
          |<----------- supervisor stdout: one JSON line: Verdict
          |             (printed once every process of the call is dead)
          v
    CallResult (trusted side; its status is a Status)

Student code runs in the runner process and can write to the result pipe
too, so the launcher trusts nothing it reads there: it decodes each frame
into the types below (``decode``), and anything else, or a message sent
twice, marks the call as tampered.
"""
from __future__ import annotations

import json
import os
import struct
from dataclasses import dataclass, field, fields
from enum import Enum
from typing import Any, Union

_LENGTH = struct.Struct(">I")
"""A frame: 4-byte big-endian length, then that many bytes of UTF-8 JSON (one message)."""


class _Named(str, Enum):
    """A ``str`` Enum that prints and formats as its value (JSON and f-strings see the plain word)."""

    def __str__(self) -> str:
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)


class Status(_Named):
    """How a call ended. A ``str``: compares equal to its value and is written to JSON as it."""

    RETURNED = "returned"
    """The function (or driver, or script) returned; ``value`` holds its result as plain data."""
    RAISED = "raised"
    """Student code raised; ``error`` has the type, message and the student's file:line."""
    IMPORT_ERROR = "import_error"
    """Importing the student module raised (SyntaxError, SystemExit at import, ...); ``error`` says what."""
    MISSING = "missing"
    """The module has no such function, or the name is not a function; ``detail``: name, kind, found."""
    UNENCODABLE = "unencodable"
    """The returned value cannot cross as plain data (or is over 8 MB, or over 16 MB came down the pipe)."""
    RUNTIME_ERROR = "runtime_error"
    """A bug in the runner itself (not in student code); ``detail["reason"]`` says what."""
    TIMEOUT = "timeout"
    """The supervisor stopped the call at its wall-clock limit (``phase`` says whether importing or calling)."""
    LIMIT = "limit"
    """The supervisor stopped the call for too many live processes, too much memory or too much written (``limit`` says which)."""
    CRASHED = "crashed"
    """The runner ended without a result (``os._exit``, a signal, a killed supervisor: ``detail``)."""
    TAMPERED = "tampered"
    """The result pipe carried messages the runner did not send: student code wrote to it."""
    SANDBOX_ERROR = "sandbox_error"
    """The sandbox itself failed (the supervisor died or printed no verdict); not the student's fault."""


RUNNER_STATUSES = frozenset({Status.RETURNED, Status.RAISED, Status.IMPORT_ERROR, Status.MISSING,
                             Status.UNENCODABLE, Status.RUNTIME_ERROR})
"""The statuses a runner's Result may carry; the others are decided in the grading process."""


class Phase(_Named):
    """How far the runner got, as seen from the messages that arrived."""

    STARTING = "starting"
    """No message yet: the interpreter was starting (or the runner was setting up)."""
    IMPORTING = "importing"
    """Started arrived: the student module was being imported."""
    CALLING = "calling"
    """Imported arrived: the student function was running."""
    DONE = "done"
    """Result arrived."""


def _plain(message: Any) -> dict[str, Any]:
    """The fields of ``message`` by name (shallow: the values are plain data already)."""
    return {f.name: getattr(message, f.name) for f in fields(message)}


def _known(cls: type, data: dict[str, Any]) -> dict[str, Any]:
    names = {f.name for f in fields(cls)}
    return {k: v for k, v in data.items() if k in names}


def _dicts(value: Any) -> list[dict]:
    return [item for item in value or [] if isinstance(item, dict)] if isinstance(value, list) else []


@dataclass(frozen=True)
class SupervisorConfig:
    """Launcher -> supervisor (a JSON file): how to start the runner and what to enforce."""

    argv: list[str]
    """The runner's command line (``python -I -B -c BOOT ...``, maybe wrapped in bubblewrap)."""
    cwd: str
    env: dict[str, str]
    stdout: str
    """File the runner's stdout goes to (read capped by the launcher)."""
    stderr: str
    timeout_s: float
    """Wall clock from the runner's start to the call being stopped."""
    result_fd: int
    """The result pipe's write end, inherited by the supervisor and passed on to the runner."""
    runtime_parent: str
    """Folder holding the private ``mpgrade_sandboxed`` copy."""
    grace_s: float = 1.0
    """Between SIGTERM and the SIGKILL sweeps."""
    settle_s: float = 0.3
    """After the runner exited, how long the call's processes may take to end on their own."""
    rlimits: dict[str, int] = field(default_factory=dict)
    """``resource`` limit name -> value, set in the runner before exec."""
    max_processes: int = 100
    max_memory_mb: int = 4096
    max_written_mb: int = 1024
    """What the call may write in all: its folder and /dev/shm together (``written.py``)."""
    call_dir: str = ""
    """The call's folder (its cwd, TMPDIR and HOME are inside): counted by the write meter; empty: not counted."""
    private_shm: bool = False
    """The runner has its own /dev/shm (bubblewrap's tmpfs), read through /proc/RUNNER/root."""
    cpus: list[int] = field(default_factory=list)
    """CPUs the call may use (empty: all)."""
    cgroups: bool = True
    """Put the call in a fresh cgroup where one is writable."""
    witness_path: str = ""
    """Where the supervisor listens as the call's witness (``witness.py``); empty: no witness."""
    stacks_dir: str = ""
    """Where the call's processes write their Python stacks when asked (``waits.py``); empty: not asked."""
    deadlock_s: float = 0.0
    """Stop the call once it has been deadlocked this long (``waits.DeadlockWatch``); 0: only at its limit."""
    runner_request: str = ""
    """The runner's RunRequest file where ``argv`` is not wrapped in a namespace sandbox: a supervisor forked from
    the template (which imported the runner) then forks the runner instead of starting ``argv``."""

    def to_plain(self) -> dict[str, Any]:
        return _plain(self)

    @classmethod
    def from_plain(cls, data: dict[str, Any]) -> SupervisorConfig:
        return cls(**_known(cls, data))


@dataclass(frozen=True)
class RunRequest:
    """Launcher -> runner (a JSON file): the one call to make."""

    submission: str
    """Folder of the student's modules (resolved)."""
    module: str
    kind: str
    """"function", "driver", "script" or "mp_main_import"."""
    target: str
    """Function or driver name (the module name for scripts)."""
    args: list = field(default_factory=list)
    """Plain-encoded (``plaindata.to_plain``) positional arguments."""
    kwargs: dict = field(default_factory=dict)
    """Plain-encoded keyword arguments."""
    start_method: str = "spawn"
    races: bool = False
    evidence_dir: str = ""
    result_fd: int = -1
    """The result pipe's write end (inherited through the supervisor)."""
    witness_path: str = ""
    """The supervisor's witness socket (``MPGRADE_WITNESS`` in every process of the call); empty: none."""
    confine: dict = field(default_factory=dict)
    """Landlock rules, ``{"read": [...], "write": [...]}`` (``landlock.restrict``), applied before any student
    code; empty: none. A runner that cannot apply them runs no student code."""

    def to_plain(self) -> dict[str, Any]:
        return _plain(self)

    @classmethod
    def from_plain(cls, data: dict[str, Any]) -> RunRequest:
        return cls(**_known(cls, data))


@dataclass(frozen=True)
class Started:
    """Runner -> launcher: the runner is set up and about to import the student module."""

    pid: int

    event = "started"

    def to_plain(self) -> dict[str, Any]:
        return {"event": self.event, "pid": self.pid}

    @classmethod
    def from_plain(cls, data: dict[str, Any]) -> Started:
        pid = data.get("pid")
        if not isinstance(pid, int) or isinstance(pid, bool):
            raise ValueError("started: pid is not an int")
        return cls(pid)


@dataclass(frozen=True)
class Imported:
    """Runner -> launcher: the student module is imported; the call starts now (the launcher times from here)."""

    seconds: float
    """How long the import took."""
    api_calls: dict = field(default_factory=dict)
    """multiprocessing APIs called while importing."""

    event = "imported"

    def to_plain(self) -> dict[str, Any]:
        return {"event": self.event, "seconds": self.seconds, "api_calls": self.api_calls}

    @classmethod
    def from_plain(cls, data: dict[str, Any]) -> Imported:
        seconds = data.get("seconds")
        api_calls = data.get("api_calls")
        return cls(seconds if isinstance(seconds, (int, float)) else 0.0,
                   dict(api_calls) if isinstance(api_calls, dict) else {})


@dataclass(frozen=True)
class Result:
    """Runner -> launcher, last: how the call ended and the evidence gathered (all plain data)."""

    status: Status
    """One of RUNNER_STATUSES."""
    value: Any = None
    """The return value, plain-encoded, when RETURNED."""
    error: dict | None = None
    """RAISED / IMPORT_ERROR: type, message, where (file, line, source, todo)."""
    detail: dict = field(default_factory=dict)
    """MISSING: name, kind, found; UNENCODABLE and RUNTIME_ERROR: reason."""
    seconds: float | None = None
    self_cpu_s: float | None = None
    children_cpu_s: float | None = None
    api_calls: dict = field(default_factory=dict)
    import_api_calls: dict = field(default_factory=dict)
    child_failures: list = field(default_factory=list)
    process_starts: list = field(default_factory=list)
    evidence: list = field(default_factory=list)
    races: list = field(default_factory=list)
    live_children: list = field(default_factory=list)
    shm_left: list = field(default_factory=list)

    event = "result"

    def to_plain(self) -> dict[str, Any]:
        return {"event": self.event, **_plain(self), "status": self.status.value}

    @classmethod
    def from_plain(cls, data: dict[str, Any]) -> Result:
        status = Status(data.get("status"))  # ValueError for anything else
        if status not in RUNNER_STATUSES:
            raise ValueError(f"result: status {status.value!r} is not the runner's to send")

        def number(name: str) -> float | None:
            value = data.get(name)
            return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None

        def mapping(name: str) -> dict:
            value = data.get(name)
            return dict(value) if isinstance(value, dict) else {}

        error = data.get("error")
        live, shm = data.get("live_children"), data.get("shm_left")
        return cls(status=status, value=data.get("value"), error=error if isinstance(error, dict) else None,
                   detail=mapping("detail"), seconds=number("seconds"), self_cpu_s=number("self_cpu_s"),
                   children_cpu_s=number("children_cpu_s"), api_calls=mapping("api_calls"),
                   import_api_calls=mapping("import_api_calls"), child_failures=_dicts(data.get("child_failures")),
                   process_starts=_dicts(data.get("process_starts")),
                   evidence=_dicts(data.get("evidence")), races=_dicts(data.get("races")),
                   live_children=list(live) if isinstance(live, list) else [],
                   shm_left=list(shm) if isinstance(shm, list) else [])


Message = Union[Started, Imported, Result]
MESSAGES: dict[str, type] = {kind.event: kind for kind in (Started, Imported, Result)}


def decode(data: dict[str, Any]) -> Message | None:
    """The runner message ``data`` is, or None if it is not one (so it came from somewhere else)."""
    kind = MESSAGES.get(data.get("event"))
    if kind is None:
        return None
    try:
        return kind.from_plain(data)
    except (TypeError, ValueError):
        return None


def write_frame(fd: int, message: Message) -> None:
    """Send one message on the result pipe (runner side)."""
    data = json.dumps(message.to_plain(), allow_nan=False, separators=(",", ":")).encode("utf-8")
    view = memoryview(_LENGTH.pack(len(data)) + data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def read_frames(data: bytes) -> list[tuple[dict[str, Any], int]]:
    """The JSON objects framed in ``data`` (launcher side), each with the offset where its frame ends.

    Stops at a short or undecodable frame; skips frames that hold no JSON object.
    """
    messages = []
    offset = 0
    while offset + _LENGTH.size <= len(data):
        (size,) = _LENGTH.unpack_from(data, offset)
        start = offset + _LENGTH.size
        if start + size > len(data):
            break
        try:
            message = json.loads(data[start:start + size])
        except ValueError:
            break
        offset = start + size
        if isinstance(message, dict):
            messages.append((message, offset))
    return messages


@dataclass(frozen=True)
class Verdict:
    """Supervisor -> launcher (one JSON line on its stdout, printed last): how the run went."""

    exitcode: int | None = None
    """The runner's exit code (negative: killed by that signal); None if it never ended by itself."""
    timed_out: bool = False
    limit: str | None = None
    """"processes", "memory" or "written" when the call was stopped for exceeding that limit."""
    interrupted: bool = False
    """The supervisor was told to stop (SIGTERM) before the call ended."""
    elapsed_s: float = 0.0
    killed: list = field(default_factory=list)
    """Processes that had to be killed after the call (pid, cmdline), the runner excepted."""
    left_alive: list = field(default_factory=list)
    """PIDs that survived every kill sweep (should always be empty)."""
    subreaper: bool = False
    cgroup: str | None = None
    """"v2", "v1" or None (no writable cgroup)."""
    peak_processes: int | None = None
    peak_memory_mb: int | None = None
    peak_written_mb: int | None = None
    """The most the call had written at once (its folder and /dev/shm), as the write meter counted it."""
    limits: dict | None = None
    shm_swept: list | None = None
    """What the call left in /dev/shm and the supervisor removed."""
    supervisor_error: str | None = None
    """Set by the launcher when no verdict could be read: the end of the supervisor's stderr."""
    runner_pid: int | None = None
    """The runner's PID as the witness saw it (its hello, sent before student code is imported); None: no witness."""
    witnessed_tasks: list = field(default_factory=list)
    """Grader tasks the witness saw run: task, args, pid, ppid, start, end (supervisor's clock), cpu_s (kernel)."""
    witnessed_call: dict | None = None
    """The student function's span seen from outside: begin, end, self_cpu_s and children_cpu_s of the
    runner (kernel), served_cpu_s (the part of children_cpu_s a fork server reaped), processes_started (new
    processes seen), live (the runner's descendants at the end)."""
    witnessed_hang: dict | None = None
    """When the call was stopped before the function returned: begin, stopped (the witness's last look) and the
    processes started by then (as ``witnessed_call``'s ``started``)."""
    witnessed_processes: list = field(default_factory=list)
    """Every process of the call the witness saw: pid, ppid, start_ticks, first, last, cpu_s, announced."""
    witness_problems: list = field(default_factory=list)
    """Marks the witness refused (sent twice, by the wrong process, unreadable): {"code", "text"} each."""
    tree_cpu_s: float | None = None
    """CPU of every process of the call that was reaped (the supervisor's RUSAGE_CHILDREN at the end)."""
    deadlock: bool = False
    """Stopped early (with ``timed_out``): every live process waited with no timeout and used no CPU for
    ``waits.HOLD_S`` (``waits.DeadlockWatch``)."""
    output_at_stop: dict = field(default_factory=dict)
    """When the call was stopped (a hang or a limit): the sizes of its stdout and stderr files then, so feedback
    quotes what it printed before, not what its processes printed as they were killed."""
    waits: list = field(default_factory=list)
    """When the call was stopped for a hang: each live process (``waits.ProcessWait``) as the kernel had it, and
    whether it was asked for its Python stack ("asked")."""

    SUPERVISION = ("cgroup", "peak_processes", "peak_memory_mb", "peak_written_mb", "limits", "shm_swept")

    def supervision(self) -> dict[str, Any]:
        """The figures a grader's feedback quotes (CallResult.supervision)."""
        return {name: getattr(self, name) for name in self.SUPERVISION}

    def to_line(self) -> str:
        return json.dumps(_plain(self)) + "\n"

    @classmethod
    def from_output(cls, output: bytes) -> Verdict:
        """The verdict on the last line of the supervisor's stdout; ValueError if there is none."""
        lines = output.decode("utf-8").strip().splitlines()
        if not lines:
            raise ValueError("the supervisor printed no verdict")
        data = json.loads(lines[-1])
        if not isinstance(data, dict):
            raise ValueError("the supervisor's verdict is not an object")
        return cls(**_known(cls, data))
