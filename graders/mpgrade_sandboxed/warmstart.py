"""A warm runner that never held its supervisor's state: forked first, told what to run later.

Both halves of the exchange live here, as in ``multiprocessing/forkserver.py``.
The supervisor half (``fork_waiting_runner``, ``WaitingRunner``) runs in a
supervisor forked from the grading process's template (``mpgrade/sandbox/
template.py``): the template is a fresh interpreter that imported the sandbox
runtime once and holds nothing of any call. The runner half
(``_wait_then_run``) runs in the child forked at the supervisor's very first
step, before it has read its call's config, made a cgroup, opened the
witness or any file:

    template (fresh once per grading process; imports the runtime)
        |  fork, on each Start
        v
    supervisor  --fork at once-->  waiting runner (blocks on the start pipe)
        |  reads its config, makes the call's cgroup, opens the witness
        |  RunnerStart (one JSON line) ----------------------> applies its limits, cgroup, CPUs, folder,
        |                                                      files and environment; becomes the runner
        |  (or closes the pipe: the call's runner is a fresh
        |   interpreter inside bubblewrap or Seatbelt; the waiting runner exits)

So the runner's memory holds the template's (the runtime's modules) and its
own ``RunnerStart``, never the supervisor's witness, write meter or config.
What a fork from any warm process carries over anyway (the template's
``__main__`` and ``argv``, multiprocessing's authentication key, the random
state) ``runner.become_fresh`` resets, as CPython's fork server children get
their own.

A call's processes are found by the kernel, not by marks: the supervisor is
their child subreaper while it lives, and the template is the subreaper of
every call; when a supervisor dies before its call ends, what it left is
re-parented to the template, which stops it before it reports the supervisor
gone (``template._stop_orphans``). The waiting runner dies with its
supervisor (``PR_SET_PDEATHSIG``).
"""
from __future__ import annotations

import json
import os
import signal
import sys
from dataclasses import asdict, dataclass, field

from mpgrade_sandboxed import proctree


@dataclass(frozen=True)
class RunnerStart:
    """Supervisor -> waiting runner (one JSON line on the start pipe): what ``Popen`` and a fresh interpreter
    would have been given."""

    request_path: str
    """The runner's RunRequest file."""
    runtime_parent: str
    """Folder holding the private ``mpgrade_sandboxed`` copy (first on the runner's import path)."""
    cwd: str
    env: dict[str, str]
    stdout: str
    """File the runner's stdout goes to (created here, as the supervisor would have)."""
    stderr: str
    rlimits: dict[str, int] = field(default_factory=dict)
    """``resource`` limit name -> value."""
    cgroups: list[str] = field(default_factory=list)
    """The call's cgroup folders, made by the supervisor after this process was forked."""
    cpus: list[int] = field(default_factory=list)
    """CPUs the call may use (empty: as inherited)."""

    def to_line(self) -> bytes:
        return (json.dumps(asdict(self), separators=(",", ":")) + "\n").encode()

    @classmethod
    def from_line(cls, line: bytes) -> RunnerStart:
        return cls(**json.loads(line))


def apply_limits(rlimits: dict[str, int], cgroups: list[str]) -> None:
    """In the runner, before any student code: its rlimits, then into the call's cgroup(s)."""
    import resource

    from mpgrade_sandboxed import cgroups as cgroups_

    for name, value in rlimits.items():
        kind = getattr(resource, name, None)
        if kind is None:
            continue
        try:
            resource.setrlimit(kind, (value, value))
        except (ValueError, OSError):
            pass
    cgroups_.join_cgroups(cgroups)


# --------------------------------------------------------------------------- supervisor half


class WaitingRunner:
    """The supervisor's handle on its waiting runner: start it once, or discard it."""

    def __init__(self, pid: int, start_fd: int) -> None:
        self.pid = pid
        self._start_fd = start_fd

    def start(self, message: RunnerStart) -> int:
        """Tell the waiting runner what to run; its PID (it is the call's runner from now on)."""
        try:
            os.write(self._start_fd, message.to_line())
        finally:
            os.close(self._start_fd)
        return self.pid

    def discard(self) -> None:
        """This call's runner is started otherwise: the waiting one exits on end of file, and is reaped here (so the
        watchdog and the witness never count it)."""
        os.close(self._start_fd)
        try:
            os.waitpid(self.pid, 0)
        except ChildProcessError:
            pass


def fork_waiting_runner(result_fd: int) -> WaitingRunner | None:
    """Fork the call's runner-to-be (the supervisor's first step); None where this process cannot fork."""
    if not hasattr(os, "fork"):
        return None
    start_r, start_w = os.pipe()
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:
        os.close(start_w)
        _wait_then_run(start_r, result_fd, parent)
    os.close(start_r)
    return WaitingRunner(pid, start_w)


# --------------------------------------------------------------------------- runner half


def _wait_then_run(start_fd: int, result_fd: int, supervisor: int) -> None:
    """In the forked child: hold nothing but the start pipe and the result pipe, wait, then become the runner the
    ``RunnerStart`` describes; never returns."""
    code = 0
    try:
        proctree.prctl(proctree.PR_SET_PDEATHSIG, signal.SIGKILL)  # with the supervisor, started or not
        if os.getppid() != supervisor:
            os._exit(1)
        keep = sorted({start_fd, result_fd})
        for low, high in zip([-1, *keep], [*keep, os.sysconf("SC_OPEN_MAX")]):
            os.closerange(low + 1, high)  # the supervisor's verdict pipe and its error file among them
        line = _read_line(start_fd)
        os.close(start_fd)
        if not line:  # discarded: the supervisor starts a fresh runner instead
            os._exit(0)
        message = RunnerStart.from_line(line)
        code = 1
        os.setsid()
        apply_limits(message.rlimits, message.cgroups)
        if message.cpus and hasattr(os, "sched_setaffinity"):
            os.sched_setaffinity(0, message.cpus)
        os.chdir(message.cwd)
        for target, (path, flags) in enumerate(((os.devnull, os.O_RDONLY),
                                                 (message.stdout, os.O_WRONLY | os.O_CREAT | os.O_TRUNC),
                                                 (message.stderr, os.O_WRONLY | os.O_CREAT | os.O_TRUNC))):
            fd = os.open(path, flags, 0o600)  # 0, 1 and 2 are closed: maybe ``target`` itself, close-on-exec
            if fd != target:
                os.dup2(fd, target)
            os.set_inheritable(target, True)  # what every process the student starts by exec writes to
        keep = sorted({0, 1, 2, result_fd})
        for low, high in zip(keep, [*keep[1:], os.sysconf("SC_OPEN_MAX")]):
            os.closerange(low + 1, high)
        signal.set_wakeup_fd(-1)
        for signum in (signal.SIGTERM, signal.SIGCHLD):
            signal.signal(signum, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)  # as a fresh interpreter has it
        os.environ.clear()
        os.environ.update(message.env)
        from mpgrade_sandboxed import runner

        runner.become_fresh(message.runtime_parent, message.request_path)
        runner.hide_the_kit()
        runner.main(message.request_path)  # ends with os._exit, as BOOT does
    except BaseException:  # noqa: BLE001  (reported like a fresh runner's crash: exit code 1, stderr)
        import traceback

        try:
            traceback.print_exc()
            sys.stderr.flush()
        except BaseException:  # noqa: BLE001
            pass
    finally:
        os._exit(code)


def _read_line(fd: int) -> bytes:
    data = b""
    while not data.endswith(b"\n"):
        chunk = os.read(fd, 65536)
        if not chunk:
            return b""
        data += chunk
    return data

