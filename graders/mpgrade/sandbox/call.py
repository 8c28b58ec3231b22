"""What a grader asks the sandbox for and what it gets back: CallRequest and CallResult (grading process).

Plain data on the trusted side. ``mpgrade`` exports both; ``run_call`` (in
``launcher``) turns a CallRequest into a CallResult. The result's ``status``
and ``phase`` are the protocol's ``Status`` and ``Phase`` (``str`` enums,
so ``result.status == "returned"`` holds).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mpgrade_sandboxed.protocol import Phase, Status

from mpgrade.sandbox.capture import CapturedOutput
from mpgrade.sandbox.runtime import Limits


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
    """"function", "driver" (a driver from ``mpgrade_sandboxed.drivers``), "script" or "mp_main_import"."""
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    start_method: str = "spawn"
    timeout_s: float = 20.0
    races: bool = False
    """Hand out tracked shared objects and locks, and record how they were used."""
    limits: Limits = Limits()
    namespaces: str = "auto"
    """"auto": inside bubblewrap where it works (see ``namespaces``); "off": never."""
    landlock: str = "auto"
    """"auto": confined with Landlock where it works (see ``confinement``); "off": never."""
    deadlock_s: float = 1.0
    """Stop the call once every process of it has waited this long with no timeout and no CPU used (a deadlock,
    ``mpgrade_sandboxed/waits.py``); 0: only at ``timeout_s``."""


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
    process_starts: list = field(default_factory=list)
    """Processes the student started: {"target": function name, "arg_types": [type names of its args]}."""
    races: list = field(default_factory=list)
    """Per-process facts on shared-object use (see mpgrade_sandboxed.lockwatch), when asked for."""
    shm_left: list = field(default_factory=list)
    """SharedMemory blocks made during the call and still in /dev/shm when it returned (not unlinked): the
    witness's when ``witnessed`` on Linux, else as the runner reported them."""
    shm_mapped: list = field(default_factory=list)
    """SharedMemory blocks the caller still had mapped when it returned (not closed); witnessed on Linux only."""
    processes: list = field(default_factory=list)
    """The processes the call started, as the witness saw them (empty when not ``witnessed``): pid, ppid, role
    ("process", "pool", "executor", "unannounced", "manager", "helper", "other"), target, start, last_seen, cpu_s,
    alive_at_end. Graders read them through ``mpgrade.started_processes``."""
    evidence: list = field(default_factory=list)
    """Grader tasks that ran (task, args, pid, ppid, start, end, cpu_s): as the supervisor's witness saw them
    when ``witnessed``, else as reported from inside. Graders read them through ``mpgrade.task_records``."""
    reported_evidence: list = field(default_factory=list)
    """The task records the call's processes wrote themselves (checked against the witness, never judged)."""
    witnessed: bool = False
    """The supervisor witnessed the call (``mpgrade_sandboxed/witness.py``): evidence and PIDs are its own."""
    evidence_problems: dict = field(default_factory=dict)
    """Kind of evidence ("tasks", "cpu", "api_calls", "processes") -> how the reported evidence disagreed with
    the witness. Checks resting on that kind fail as tampering (``mpgrade/verdicts/evidence.py``)."""
    live_children: list = field(default_factory=list)
    """Processes still running when the student function returned."""
    killed: list = field(default_factory=list)
    """Processes the supervisor had to kill after the call."""
    left_alive: list = field(default_factory=list)
    """PIDs that survived every kill sweep (should always be empty)."""
    exitcode: int | None = None
    timed_out: bool = False
    limit: str | None = None
    """"processes", "memory" or "written" when the call was stopped for exceeding that limit."""
    supervision: dict = field(default_factory=dict)
    """The supervisor's figures: cgroup mode, peak processes and memory, limits, /dev/shm entries swept."""
    elapsed_s: float = 0.0
    stdout: CapturedOutput = CapturedOutput("", 0, False)
    stderr: CapturedOutput = CapturedOutput("", 0, False)
    processes_seen: int | None = None
    """New processes the witness saw start while the function ran (None: not witnessed). A lower bound (one
    living less than a poll may slip by) that student code cannot lower, unlike its reported API counts."""
    runner_pid: int | None = None
    """The runner's PID: the witness's (supervisor's PID namespace) when ``witnessed``, else its own report."""
    hang: dict = field(default_factory=dict)
    """When the call was stopped for a hang ("timeout"): ``deadlock`` (stopped early: every process waited with
    no timeout), ``after_s``, and ``waits``: each process still alive (pid, role, target, state, syscalls, and its
    Python stack's ``frames`` [file, line, function], innermost last, when it wrote one). ``processes`` and
    ``evidence`` then hold what the witness saw up to the stop."""

    @property
    def hung(self) -> bool:
        """Stopped for a hang while the student function ran (not while importing)."""
        return self.status == Status.TIMEOUT and self.phase in (Phase.CALLING, Phase.DONE)

