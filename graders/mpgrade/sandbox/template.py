"""A warm start for supervisors: one template process per grading process forks each call's supervisor.

Both halves of the exchange live here, as in ``multiprocessing/forkserver.py``:
the client (``Template``, ``SupervisorProcess``) runs in the grading process;
the server (``serve``, run as ``python -I template.py RUNTIME_PARENT ...``) is
the template, a fresh interpreter that imports the supervisor and its runtime
modules once and then only forks. It runs no student code and imports nothing
from ``mpgrade`` (only ``supervisor.py``, by path, and the private runtime copy).

    grading process (launcher)                     template (one per grading process)
    --------------------------                     ----------------------------------
    connect to its socket, send Start + 3 fds ---> fork: the child is the call's supervisor
      (result pipe's write end, verdict pipe's       (own session, fd 1 = verdict pipe,
       write end, supervisor.err)                     fd 2 = supervisor.err), runs
                                                      supervisor.main, os._exit
    Started(pid)  <------------------------------  at once
    Exited(returncode)  <------------------------  once the supervisor is reaped (SIGCHLD)

A fresh supervisor interpreter spent ~50 ms of every call starting up,
importing and tearing down (of a trivial call's ~160 ms); a forked one starts
past all of that. Nothing else changes: the supervisor still starts the
runner as a fresh interpreter (inside bubblewrap where it works) with its
limits, watches, witnesses and sweeps it, and prints its verdict on fd 1.

One owner per end: the template exits when the grading process does (its
``alive`` pipe reaches end of file), and each supervisor it forked stops its
call when the template dies (``PR_SET_PDEATHSIG``, as before with the grading
process). The template starts with an empty environment: a supervisor needs
none (it gives the runner the call's own), and nothing of the grading
process's environment lingers in a long-lived process.

Outside a namespace sandbox (and Seatbelt) the call's runner is warm too: the
supervisor forks it at its first step, before it reads anything of its call,
and later tells it what to run (``mpgrade_sandboxed/warmstart.py``); a call
starts past the runner's interpreter start-up and imports. Inside bubblewrap
the runner stays bubblewrap's fresh child.

The template is the child subreaper of every call: what a supervisor that
dies leaves running is re-parented here, and stopped (``_stop_orphans``)
before the grading process is told the supervisor is gone. So a call's
processes are found by the kernel's process tree, not by marks they carry.

It runs past 300 lines on purpose: both halves of the exchange stay in one module, as in
``multiprocessing/forkserver.py``.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

FDS_PER_START = 3
TEMPLATE_START_S = 10.0
"""How long the grading process waits for a new template to listen before it starts supervisors the old way."""


@dataclass(frozen=True)
class Start:
    """Client -> template: start a supervisor on this config (with FDS_PER_START fds attached).

    ``result_fd`` is the number the config gives the result pipe's write end
    (the runner is told it); ``cpus`` the grading process's CPU affinity,
    which a supervisor started from it would have inherited.
    """

    config_path: str
    result_fd: int
    cpus: list[int]
    warm_runner: bool = False
    """Fork the call's runner at the supervisor's first step (``mpgrade_sandboxed/warmstart.py``): the call runs
    outside a namespace sandbox and Seatbelt, so its runner need not be a fresh interpreter."""


@dataclass(frozen=True)
class Started:
    """Template -> client: the supervisor's PID (it leads its own session and process group)."""

    pid: int


@dataclass(frozen=True)
class Exited:
    """Template -> client: the supervisor was reaped; ``returncode`` as ``subprocess`` has it (-N: signal N)."""

    returncode: int


def _line(message: Start | Started | Exited) -> bytes:
    return (json.dumps({"type": type(message).__name__, **asdict(message)}) + "\n").encode()


def _parse(line: bytes) -> Start | Started | Exited:
    fields = json.loads(line)
    kind = {"Start": Start, "Started": Started, "Exited": Exited}[fields.pop("type")]
    return kind(**fields)


# --------------------------------------------------------------------------- client (grading process)


class SupervisorProcess:
    """A supervisor forked by the template: what ``eventloop.collect`` and ``classify`` need of a ``Popen``."""

    def __init__(self, connection: socket.socket, pid: int, stdout) -> None:
        self._connection = connection
        self._buffer = b""
        self.pid = pid
        self.stdout = stdout
        """The read end of the supervisor's fd 1 (its verdict)."""
        self.returncode: int | None = None

    def wait(self, timeout: float | None = None) -> int | None:
        """Until the template says the supervisor was reaped; None if the template itself is gone."""
        if self.returncode is not None or self._connection.fileno() < 0:
            return self.returncode
        deadline = None if timeout is None else time.monotonic() + timeout
        while b"\n" not in self._buffer:
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                raise subprocess.TimeoutExpired("supervisor", timeout)
            self._connection.settimeout(remaining)
            try:
                chunk = self._connection.recv(256)
            except socket.timeout:
                raise subprocess.TimeoutExpired("supervisor", timeout) from None
            except OSError:
                chunk = b""
            if not chunk:  # the template died: its supervisor got SIGTERM and stopped the call
                self._connection.close()
                return None
            self._buffer += chunk
        message = _parse(self._buffer.split(b"\n", 1)[0])
        self._connection.close()
        self.returncode = message.returncode if isinstance(message, Exited) else None
        return self.returncode


class Template:
    """The grading process's handle on its template (started on first use, restarted if it died)."""

    def __init__(self) -> None:
        self._process: subprocess.Popen | None = None
        self._socket_path: str | None = None
        self._runtime_parent: str | None = None
        self._folder: tempfile.TemporaryDirectory | None = None

    @property
    def pid(self) -> int | None:
        """The template's PID while it runs (every live child of it is a running call's supervisor)."""
        return self._process.pid if self._process is not None and self._process.poll() is None else None

    def start_supervisor(self, runtime_parent: str, config_path: str, result_fd: int,
                         stderr_fd: int, warm_runner: bool = False) -> SupervisorProcess | None:
        """A new supervisor for ``config_path``, forked by the template; None where no template can run
        (the caller then starts a fresh interpreter, as without one)."""
        for _ in range(2):  # a template that died since the last call is replaced once
            connection = self._connect(runtime_parent)
            if connection is None:
                return None
            verdict_r, verdict_w = os.pipe()
            try:
                start = Start(config_path, result_fd, sorted(_affinity()), warm_runner)
                socket.send_fds(connection, [_line(start)], [result_fd, verdict_w, stderr_fd])
                reply = b""
                while b"\n" not in reply:
                    chunk = connection.recv(256)
                    if not chunk:
                        raise ConnectionError("the template closed the connection")
                    reply += chunk
            except OSError:
                connection.close()
                os.close(verdict_r)
                self.close()
                continue
            finally:
                os.close(verdict_w)
            first, rest = reply.split(b"\n", 1)
            started = _parse(first)
            process = SupervisorProcess(connection, started.pid, os.fdopen(verdict_r, "rb", buffering=0))
            process._buffer = rest
            return process
        return None

    def _connect(self, runtime_parent: str) -> socket.socket | None:
        if self._process is not None and (self._process.poll() is not None or self._runtime_parent != runtime_parent):
            self.close()
        if self._process is None and not self._launch(runtime_parent):
            return None
        connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            connection.connect(self._socket_path)
        except OSError:
            connection.close()
            self.close()
            if not self._launch(runtime_parent):
                return None
            connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                connection.connect(self._socket_path)
            except OSError:
                connection.close()
                self.close()
                return None
        return connection

    def _launch(self, runtime_parent: str) -> bool:
        self._folder = tempfile.TemporaryDirectory(prefix="mpgrade-template-")
        self._socket_path = os.path.join(self._folder.name, "s")
        ready_r, ready_w = os.pipe()
        alive_r, alive_w = os.pipe()
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-I", "-B", __file__, runtime_parent, self._socket_path, str(alive_r), str(ready_w)],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, pass_fds=(alive_r, ready_w),
                start_new_session=True, close_fds=True, env={},
            )
        except OSError:
            os.close(alive_w)
            return False
        finally:
            os.close(alive_r)
            os.close(ready_w)
        self._alive_w = alive_w  # held open until this process ends: the template's lifeline
        self._runtime_parent = runtime_parent
        import selectors

        with selectors.DefaultSelector() as selector:
            selector.register(ready_r, selectors.EVENT_READ)
            ready = bool(selector.select(TEMPLATE_START_S)) and os.read(ready_r, 1) == b"1"
        os.close(ready_r)
        if not ready:
            self.close()
        return ready

    def close(self) -> None:
        """Stop the template (its lifeline closes); a supervisor it forked that is still running gets SIGTERM
        and stops its call."""
        if self._process is not None:
            os.close(self._alive_w)
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None
        if self._folder is not None:
            self._folder.cleanup()
            self._folder = None


_template: Template | None = None
_owner = 0
SWITCH = "MPGRADE_WARM_START"
"""Set to ``off`` to start every supervisor as a fresh interpreter (to compare, or where a template misbehaves)."""


def shared() -> Template:
    """This grading process's template (a process forked from a grading process gets its own)."""
    global _template, _owner
    if _template is None or _owner != os.getpid():
        import atexit

        _template, _owner = Template(), os.getpid()
        atexit.register(_template.close)
    return _template


def usable() -> bool:
    """Whether supervisors are forked from a template here: fork, AF_UNIX and fd passing (Linux, macOS),
    unless switched off."""
    return (os.environ.get(SWITCH, "").lower() not in {"off", "0", "no"} and hasattr(os, "fork")
            and hasattr(socket, "AF_UNIX") and hasattr(socket, "send_fds"))


def _affinity() -> set[int]:
    return os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else set()


# --------------------------------------------------------------------------- server (the template process)


def serve(runtime_parent: str, socket_path: str, alive_fd: int, ready_fd: int) -> None:
    """Listen for Start messages; fork a supervisor for each; report its PID and, once reaped, its exit."""
    import selectors

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import supervisor  # noqa: PLC0415  (by path: nothing of mpgrade is imported)

    sys.path.pop(0)
    supervisor._import_runtime(runtime_parent)
    from mpgrade_sandboxed import proctree

    try:  # calls outside a namespace fork their runner from here, past its imports (warmstart.py)
        from mpgrade_sandboxed import runner, warmstart  # noqa: F401
    except Exception:  # noqa: BLE001  (then each supervisor starts a fresh runner)
        warmstart = None
    # What a supervisor that dies leaves of its call is re-parented here, not to init: found by the kernel.
    proctree.prctl(proctree.PR_SET_CHILD_SUBREAPER, 1)
    template_pid = os.getpid()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(socket_path)
    listener.listen(16)
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ, "listener")
    selector.register(alive_fd, selectors.EVENT_READ, "alive")
    selector.register(wake_r, selectors.EVENT_READ, "wake")
    os.write(ready_fd, b"1")
    os.close(ready_fd)
    waiting: dict[int, socket.socket] = {}  # supervisor PID -> the connection its Exited goes to
    while True:
        for key, _ in selector.select():
            if key.data == "alive":  # the grading process is gone (or closed us)
                return
            if key.data == "wake":
                os.read(wake_r, 4096)
                _reap(waiting, proctree)
                continue
            connection, _ = listener.accept()
            try:
                message, fds, _flags, _address = socket.recv_fds(connection, 4096, FDS_PER_START)
            except OSError:
                connection.close()
                continue
            if len(fds) != FDS_PER_START:
                for fd in fds:
                    os.close(fd)
                connection.close()
                continue
            try:
                start = _parse(message.split(b"\n", 1)[0])
            except (ValueError, KeyError, TypeError):
                start = None
            if not isinstance(start, Start):
                for fd in fds:
                    os.close(fd)
                connection.close()
                continue
            pid = os.fork()
            if pid == 0:  # the supervisor
                _become_supervisor(supervisor, runtime_parent, start, fds, template_pid,
                                   warmstart if start.warm_runner else None)
            for fd in fds:
                os.close(fd)
            waiting[pid] = connection
            connection.sendall(_line(Started(pid)))
            _reap(waiting, proctree)


def _reap(waiting: dict[int, socket.socket], proctree) -> None:
    """Reap exited supervisors (and orphans); stop what a dead supervisor left, then report each one gone."""
    exited: list[tuple[socket.socket, int]] = []
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            break
        connection = waiting.pop(pid, None)
        if connection is not None:
            exited.append((connection, os.waitstatus_to_exitcode(status)))
    if exited and any(child not in waiting for child in proctree.children(os.getpid())):
        _stop_orphans(set(waiting), proctree)
    for connection, returncode in exited:
        try:
            connection.sendall(_line(Exited(returncode)))
        except OSError:
            pass
        connection.close()


def _stop_orphans(supervisors: set[int], proctree) -> None:
    """Kill every process below the template but the live supervisors' calls: what a supervisor that died (killed by
    student code, or failing) left running was re-parented here, the subreaper of every call."""
    for _ in range(500):
        orphans = proctree.descendants_except(os.getpid(), supervisors)
        if not orphans:
            return
        proctree.signal_all(orphans, signal.SIGSTOP)  # frozen first, so none forks past the sweep
        proctree.signal_all(orphans, signal.SIGKILL)
        for pid in orphans:
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass
        time.sleep(0.01)


def _become_supervisor(supervisor, runtime_parent: str, start: Start, fds: list[int], template_pid: int,
                       warmstart=None) -> None:
    """In the forked child: the state a fresh ``python -I supervisor.py`` would have, then its main; never returns.

    With ``warmstart``, the call's runner is forked first, before this process reads anything of its call."""
    code = 1
    try:
        signal.set_wakeup_fd(-1)
        for signum in (signal.SIGCHLD, signal.SIGINT):
            signal.signal(signum, signal.SIG_DFL)
        os.setsid()
        # Stop with the template (and so with the grading process); it may have died before this line.
        supervisor.proctree.prctl(supervisor.proctree.PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != template_pid:
            os._exit(1)
        result_fd, verdict_fd, stderr_fd = fds
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(verdict_fd, 1)
        os.dup2(stderr_fd, 2)
        if result_fd != start.result_fd:  # the number the runner is told
            os.dup2(result_fd, start.result_fd)
        keep = sorted({0, 1, 2, start.result_fd})
        for low, high in zip(keep, [*keep[1:], os.sysconf("SC_OPEN_MAX")]):
            os.closerange(low + 1, high)  # the template's socket, selector, lifeline, other calls' fds
        if start.cpus and hasattr(os, "sched_setaffinity"):
            os.sched_setaffinity(0, start.cpus)
        waiting = warmstart.fork_waiting_runner(start.result_fd) if warmstart is not None else None
        sys.stdout = open(1, "w", closefd=False)  # noqa: SIM115
        sys.stderr = open(2, "w", closefd=False)  # noqa: SIM115
        code = supervisor.main(runtime_parent, start.config_path, waiting)
    except BaseException:  # noqa: BLE001  (a supervisor's failure is reported like a fresh one's: exit code 1)
        import traceback

        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


if __name__ == "__main__":
    serve(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
