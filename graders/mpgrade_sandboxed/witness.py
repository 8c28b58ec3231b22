"""The witness: facts about a call's processes that student code cannot write (both halves of its channel).

Evidence recorded inside the student's processes (files, counters, clocks)
can be written by the student, so the supervisor, which runs no student
code, keeps its own account of what happened, and the trusted side believes
a claim from inside only where the two agree (``mpgrade/sandbox/witnessed.py``).
Both halves of the channel live here, as ``multiprocessing/forkserver.py``
keeps both halves of its wire format in one module:

    runner / worker processes (student code next to them)        supervisor (trusted, no student code)
    ---------------------------------------------------          ------------------------------------
    client: ``hello``, ``call_mark``, ``task_mark``,    -- AF_UNIX stream socket -->  ``Witness.serve``: for each
    ``announce_child`` (one JSON line, then WAIT for       (path in MPGRADE_WITNESS)   line the kernel says who sent
    the one-byte ack)                                   <-- ack --                     it (SCM_CREDENTIALS), the
                                                                                      supervisor's clock says when,
                                                                                      /proc says parent, start time
                                                                                      and CPU, while the sender waits

The sender is blocked until the ack, so it is certainly alive while its
/proc entry is read: a process that lives a millisecond is still witnessed
(polling alone would miss it). The supervisor also feeds in every process its
watchdog sees (``Witness.see``), so processes that never speak are counted too.

What the witness cannot tell: whether the code that sent a mark was the
grader's task or student code imitating it from a real process. It vouches
for processes, parents, times and CPU (kernel facts), never for the body of
a function.

Standard library only: the client half runs in the runner and every student
process that runs a grader task; the server half in the supervisor. It runs
past 300 lines on purpose: both halves of the wire format stay in one module,
so neither side can drift from the other.
"""
from __future__ import annotations

import json
import os
import select
import socket
import struct
import sys
import threading
import time
from typing import Any

WITNESS_ENV = "MPGRADE_WITNESS"
"""The witness socket's path (set by the runner; every process of the call inherits it)."""
ACK = b"k"
CLIENT_TIMEOUT_S = 10.0
MAX_LINE = 4096
MAX_PROCESSES = 2000
MAX_TASKS = 10_000
SHM_LOOKS = 5
"""Looks (watchdog polls) after which a new /dev/shm name none of the call's processes held stops being checked."""
_CREDS = struct.Struct("3i")  # struct ucred: pid, uid, gid

# What the witness refused, as codes (``Verdict.witness_problems``: {"code", "text"}); the trusted side decides
# by code, the text is for people.
TOO_MANY_CONNECTIONS, FOREIGN_CONNECTION, MARK_TOO_LONG = "too-many-connections", "foreign-connection", "mark-too-long"
UNREADABLE_MARK, UNKNOWN_MARK, UNOPENED_TASK_END = "unreadable-mark", "unknown-mark", "unopened-task-end"
SECOND_RUNNER, FORGED_CALL_MARK = "second-runner", "forged-call-mark"
RUNNER_FORGERIES = (SECOND_RUNNER, FORGED_CALL_MARK)
"""Only student code sends these: the runner's own marks, a second time or from another process."""

# -- client half: runs in the runner and in the student's processes ----------------------------------

_local = threading.local()
"""This thread's connection and the PID that opened it: threads of one process (a ThreadPool running tasks)
must not read each other's acks, and a forked child must not speak on its parent's connection."""


def _connected(path: str) -> socket.socket:
    if getattr(_local, "owner", None) != os.getpid() or _local.connection is None:
        connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        connection.settimeout(CLIENT_TIMEOUT_S)
        connection.connect(path)
        _local.connection, _local.owner = connection, os.getpid()
    return _local.connection


def send(message: dict[str, Any]) -> bool:
    """Send ``message`` and wait for the witness's ack; False if there is no witness or it did not answer."""
    path = os.environ.get(WITNESS_ENV)
    if not path:
        return False
    try:
        connection = _connected(path)
        connection.sendall(json.dumps(message, separators=(",", ":"))[:MAX_LINE - 1].encode() + b"\n")
        if connection.recv(1) == ACK:
            return True
    except (OSError, ValueError, TypeError):
        pass
    _local.connection = None
    return False


def hello() -> bool:
    """The runner, before any student code is imported: tells the witness which process is the runner."""
    return send({"m": "hello"})


def call_mark(edge: str) -> bool:
    """The runner, just before ("begin") and just after ("end") the student function runs."""
    return send({"m": "call", "edge": edge})


def task_mark(edge: str, task: str, args: list) -> bool:
    """A grader task, when it starts ("start") and when it ends ("end")."""
    return send({"m": "task", "edge": edge, "task": task, "args": args})


WORKER_ROLES = ("process", "pool", "executor")
"""Roles of the processes that do a student's work: their own Process, a Pool's worker, an executor's worker.
The others a call may start: "manager" (a Manager's server), "helper" (multiprocessing's resource tracker
or fork server, never announced), "unannounced" (a multiprocessing child stopped before it could announce
itself, e.g. a Pool's worker terminated by the with-block before it ran: a worker, of some kind), "other"
(anything else: subprocess, an exec)."""


def role_of(process: Any) -> tuple[str, str]:
    """(role, target) of a multiprocessing Process object, from what it will run.

    Said by the child itself, so student code could say something else; it can
    only make its own processes count less (the witness still counts a process
    only if the kernel shows it)."""
    target = getattr(process, "_target", None)
    module = str(getattr(target, "__module__", "") or "")
    name = str(getattr(target, "__qualname__", "") or getattr(target, "__name__", "") or "")
    if target is None:
        return "process", f"{type(process).__name__}.run"
    if name.endswith("_run_server") and module == "multiprocessing.managers":
        return "manager", name
    if module == "multiprocessing.pool":
        return "pool", name
    if module == "concurrent.futures.process":
        return "executor", name
    return "process", name


def announce_child(role: str = "process", target: str = "") -> None:
    """A multiprocessing child, first thing: tells the witness it exists, and what it runs (and arms its stack dump,
    ``waits.arm``: a spawn or forkserver child starts without the runner's)."""
    from mpgrade_sandboxed import waits

    waits.arm()
    send({"m": "child", "role": role, "target": target})
    _report_exit()


class _Announce:
    """Put on every Process object before start(): unpickling it in a spawn/forkserver child announces the child."""

    def __init__(self, role: str = "process", target: str = "") -> None:
        self.role, self.target = role, target

    def __reduce__(self):
        return announce_child, (self.role, self.target)


def install_child_hooks() -> None:
    """In the runner: every multiprocessing child it (or its descendants) starts announces itself.

    Under fork the child runs the patched ``_bootstrap`` it inherited; under spawn
    and forkserver it unpickles the Process object, and with it an ``_Announce``.
    """
    import multiprocessing.process as process

    start = process.BaseProcess.start

    def witnessed_start(self, *args: Any, **kwargs: Any) -> Any:
        self._mpgrade_witness = _Announce(*role_of(self))
        return start(self, *args, **kwargs)

    process.BaseProcess.start = witnessed_start  # type: ignore[method-assign]
    _report_exit(announce=True)


def _report_exit(announce: bool = False) -> None:
    """Every multiprocessing child this process starts by fork (and, called in a spawn or forkserver child as it
    announces itself, that child) tells the witness its exit code as its last word (feedback names processes that
    ended, with it). ``announce``: a forked child also announces itself first (a spawned one already has)."""
    import multiprocessing.process as process

    bootstrap = process.BaseProcess._bootstrap
    if getattr(bootstrap, "_mpgrade", False):
        return

    def witnessed_bootstrap(self, *args: Any, **kwargs: Any) -> Any:
        if announce:
            announce_child(*role_of(self))
        code = bootstrap(self, *args, **kwargs)
        try:
            send({"m": "exit", "code": code if isinstance(code, int) else 1})
        except Exception:  # noqa: BLE001  (the witness may be gone: the call is being stopped)
            pass
        return code

    witnessed_bootstrap._mpgrade = True  # type: ignore[attr-defined]
    process.BaseProcess._bootstrap = witnessed_bootstrap  # type: ignore[method-assign]


# -- server half: runs in the supervisor ----------------------------------------------------------


def _peer_pid(connection: socket.socket) -> int | None:
    """The PID that connected (Linux SO_PEERCRED; macOS LOCAL_PEERPID); None where neither works."""
    try:
        if hasattr(socket, "SO_PEERCRED"):
            return _CREDS.unpack(connection.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _CREDS.size))[0]
        if sys.platform == "darwin":
            return struct.unpack("i", connection.getsockopt(0, 2, 4))[0]  # SOL_LOCAL, LOCAL_PEERPID
    except OSError:
        pass
    return None


class _Peer:
    def __init__(self, pid: int | None) -> None:
        self.pid = pid
        self.buffer = b""


class Witness:
    """The supervisor's account of a call: every process it saw, every mark it was sent, and when."""

    def __init__(self, path: str, proctree, max_connections: int = 400, private_shm: bool = False) -> None:
        """``proctree``: the runtime copy's module (``proc_stat``, ``descendants``, ``cmdline``); ``private_shm``:
        the call has its own /dev/shm (bubblewrap's tmpfs), so every name new in it is the call's."""
        self.proctree = proctree
        self.private_shm = private_shm
        self.stat, self.descendants = proctree.proc_stat, proctree.descendants
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(path)
        if hasattr(socket, "SO_PASSCRED"):
            # Set here, not after accept: accepted connections inherit it, so even a mark sent before
            # accept() returned carries its sender's credentials.
            self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        self.listener.listen(128)
        self.listener.setblocking(False)
        self.peers: dict[socket.socket, _Peer] = {}
        self.max_connections = max_connections
        self.runner_pid: int | None = None
        self.processes: dict[tuple[int, int], dict[str, Any]] = {}
        self.open_tasks: dict[tuple[int, int, int], dict[str, Any]] = {}
        self.tasks: list[dict[str, Any]] = []
        self.call: dict[str, Any] = {}
        self.problems: list[str] = []
        self.ticks = proctree.TICKS_PER_S

    # -- what the watchdog sees
    def see(self, pids: list[int], now: float | None = None, announced: bool = False) -> None:
        now = time.time() if now is None else now
        for pid in pids:
            self._saw(pid, self.stat(pid), now, announced)
        if "begin" in self.call and "end" not in self.call:
            self._attribute_shm(pids)

    def _shm_root(self) -> str:
        """Where the runner's /dev/shm is seen from here: its own mount namespace's (bubblewrap gives it a
        private one), the same as ours without namespaces."""
        return f"/proc/{self.runner_pid}/root" if self.runner_pid else ""

    def _attribute_shm(self, pids: list[int]) -> None:
        """Which new names in /dev/shm this call's processes hold (map or keep open): on a machine grading
        several calls at once /dev/shm is shared, and a name new since this call began may be another call's.
        One listdir per look; the call's maps are read only while a new name is not yet placed (a few looks)."""
        pending = self.proctree.shm_names(self._shm_root()) - self.shm_before - self.shm_ours
        pending = {name for name in pending if self.shm_looks.get(name, 0) < SHM_LOOKS}
        if not pending:
            return
        held = set()
        for pid in pids:
            held.update(self.proctree.shm_mapped(pid))
        self.shm_ours |= pending & held
        for name in pending - held:
            self.shm_looks[name] = self.shm_looks.get(name, 0) + 1

    def _saw(self, pid: int, stat, now: float, announced: bool = False) -> dict[str, Any] | None:
        if stat is None:
            return None
        key = (pid, stat.start_ticks)
        entry = self.processes.get(key)
        if entry is None:
            if len(self.processes) >= MAX_PROCESSES:
                return None
            entry = self.processes[key] = {"pid": pid, "ppid": stat.ppid, "start_ticks": stat.start_ticks,
                                           "first": now, "last": now, "cpu_s": 0.0, "announced": False,
                                           "cmdline": self.proctree.cmdline(pid)[:200]}
        entry["last"] = now
        entry["cpu_s"] = max(entry["cpu_s"], stat.cpu_ticks / self.ticks)
        entry["announced"] = entry["announced"] or announced
        return entry

    # -- the channel
    def serve(self, timeout: float) -> None:
        """Wait up to ``timeout`` for connections and marks; answer every complete mark."""
        try:
            ready, _, _ = select.select([self.listener, *self.peers], [], [], timeout)
        except (OSError, ValueError):
            time.sleep(timeout)
            return
        for sock in ready:
            if sock is self.listener:
                self._accept()
            else:
                self._read(sock)

    def _accept(self) -> None:
        for _ in range(64):
            try:
                connection, _ = self.listener.accept()
            except (BlockingIOError, OSError):
                return
            if len(self.peers) >= self.max_connections:
                connection.close()
                self._problem(TOO_MANY_CONNECTIONS, "more connections to the witness than processes allowed")
                continue
            connection.setblocking(False)
            self.peers[connection] = _Peer(_peer_pid(connection))

    def _read(self, sock: socket.socket) -> None:
        peer = self.peers[sock]
        try:
            data, ancillary, _, _ = sock.recvmsg(MAX_LINE, socket.CMSG_SPACE(_CREDS.size))
        except BlockingIOError:
            return
        except OSError:
            data, ancillary = b"", []
        if not data:
            self._drop(sock)
            return
        for level, kind, value in ancillary:
            if level == socket.SOL_SOCKET and kind == getattr(socket, "SCM_CREDENTIALS", -1):
                # Who wrote these bytes: a forked child writing on its parent's connection would otherwise pass
                # for the parent, and the connector's PID (SO_PEERCRED) cannot be forged even by a process
                # that may claim another PID here (CAP_SYS_ADMIN): both must agree.
                if _CREDS.unpack(value[:_CREDS.size])[0] not in (peer.pid, 0):  # 0: the kernel attached none
                    self._problem(FOREIGN_CONNECTION, "a witness mark was written on another process's connection")
                    self._drop(sock)
                    return
        peer.buffer += data
        while b"\n" in peer.buffer:
            line, peer.buffer = peer.buffer.split(b"\n", 1)
            self._mark(sock, peer.pid, line)
        if len(peer.buffer) > MAX_LINE:
            self._problem(MARK_TOO_LONG, "a witness mark was too long")
            self._drop(sock)

    def _drop(self, sock: socket.socket) -> None:
        self.peers.pop(sock, None)
        sock.close()

    def _problem(self, code: str, text: str) -> None:
        problem = {"code": code, "text": text}
        if len(self.problems) < 20 and problem not in self.problems:
            self.problems.append(problem)

    def _mark(self, sock: socket.socket, pid: int | None, line: bytes) -> None:
        """Record one mark while its sender waits for the ack (so its /proc entry is certainly there)."""
        now = time.time()
        try:
            message = json.loads(line)
        except ValueError:
            message = None
        stat = self.stat(pid) if pid else None
        if not isinstance(message, dict) or stat is None:
            self._problem(UNREADABLE_MARK, "a witness mark could not be read or came from an unknown process")
        else:
            entry = self._saw(pid, stat, now, announced=message.get("m") == "child")
            handler = getattr(self, "_on_" + str(message.get("m")), self._on_unknown)
            handler(pid, stat, now, message, entry, sock)
        try:
            sock.send(ACK)
        except OSError:
            self._drop(sock)

    def _on_unknown(self, pid, stat, now, message, entry, sock) -> None:
        self._problem(UNKNOWN_MARK, f"unknown witness mark {str(message.get('m'))[:40]!r}")

    def _on_child(self, pid, stat, now, message, entry, sock) -> None:
        if entry is not None and "role" not in entry:  # _saw has recorded it as announced; the first word stands
            role = str(message.get("role", "process"))
            entry["role"] = role if role in (*WORKER_ROLES, "manager") else "process"
            entry["target"] = str(message.get("target", ""))[:80]

    def _on_exit(self, pid, stat, now, message, entry, sock) -> None:
        """A multiprocessing child's last word: its exit code (from inside: it only shapes feedback's words)."""
        if entry is not None and isinstance(message.get("code"), int):
            entry["exitcode"] = message["code"]

    def _on_case(self, pid, stat, now, message, entry, sock) -> None:
        """The runner begins one of a check's edge cases (``drivers.each_case``): a hang is that case's."""
        if pid == self.runner_pid and isinstance(message.get("index"), int):
            self.call["case"] = now

    def pids_with_role(self, role: str) -> set[int]:
        """PIDs of the live processes that announced ``role`` (e.g. "manager")."""
        return {p["pid"] for p in self.processes.values() if p.get("role") == role}

    def _on_hello(self, pid, stat, now, message, entry, sock) -> None:
        if self.runner_pid is None:
            self.runner_pid = pid
        else:
            self._problem(SECOND_RUNNER, "a second process said it was the runner")

    def _on_call(self, pid, stat, now, message, entry, sock) -> None:
        edge = message.get("edge")
        if pid != self.runner_pid or edge not in ("begin", "end") or edge in self.call or \
                (edge == "end" and "begin" not in self.call):
            self._problem(FORGED_CALL_MARK, "a call mark that the runner did not send")
            return
        if edge == "begin":  # no /proc scan (it costs milliseconds): a child missed here only makes the span larger
            stats = {p["pid"]: self.stat(p["pid"]) for p in self.processes.values() if p["ppid"] == pid}
            self.shm_before = self.proctree.shm_names(self._shm_root())
            self.shm_ours, self.shm_looks = set(), {}
        else:  # one scan of every process of the call, which also counts as the call's last look at them
            stats = {child: self.stat(child) for child in self.descendants(zombies=True)}
            self.see([child for child, found in stats.items() if found is not None], now)
        # The runner's reaped children, and those reaped by its own children (a forkserver reaps its workers).
        served = sum(found.children_ticks for found in stats.values() if found is not None and found.ppid == pid)
        self.call[edge] = {"t": now, "self_ticks": stat.cpu_ticks, "reaped_ticks": stat.children_ticks + served,
                           "served_ticks": served}
        if edge == "end":
            below, frontier = [], [pid]
            while frontier:
                parent = frontier.pop()
                found = [child for child, c in stats.items() if c is not None and c.ppid == parent]
                below += found
                frontier += found
            self.call["live"] = [{"pid": child, "cmdline": self.proctree.cmdline(child)[:200],
                                  "parent_cmdline": self.proctree.cmdline(stats[child].ppid)[:200]}
                                 for child in below if stats[child].state != "Z"]
            # Kernel facts a student's SharedMemory use leaves: names created during the call and still in
            # /dev/shm (not unlinked), and blocks the caller still has mapped (not closed) when it returned.
            new = self.proctree.shm_names(self._shm_root()) - getattr(self, "shm_before", set())
            if new and self.private_shm:  # its own tmpfs: no other call can have made any
                self.shm_ours = set(new)
            elif new:  # another call running next to this one may have made some: those it still holds are its own
                self._attribute_shm([pid, *stats])
                new = self.proctree.shm_not_held_outside(new, {pid, *stats}, self._shm_root())
            # Left: new, held by no other call, and seen held by this call's processes (the runner's own list
            # of the blocks it created is added on the trusted side, for a block made and dropped between looks).
            self.call["shm_new"] = sorted(new)[:50]
            self.call["shm_left"] = sorted(new & getattr(self, "shm_ours", set()))[:50]
            self.call["shm_mapped"] = self.proctree.shm_mapped(pid)[:50]

    @property
    def call_ended(self) -> bool:
        """The runner's end mark came (and with it the witness's last look at the call's processes)."""
        return "end" in self.call

    def _on_task(self, pid, stat, now, message, entry, sock) -> None:
        key = (pid, stat.start_ticks, id(sock))  # one connection per thread: tasks may run in several at once
        task, args = message.get("task"), message.get("args")
        if message.get("edge") == "start":
            self.open_tasks[key] = {"task": task, "args": args, "start": now, "cpu_ticks": stat.cpu_ticks}
            return
        opened = self.open_tasks.pop(key, None)
        if opened is None or opened["task"] != task or opened["args"] != args or len(self.tasks) >= MAX_TASKS:
            self._problem(UNOPENED_TASK_END, "a task ended that the witness did not see start")
            return
        self.tasks.append({"task": task, "args": args, "pid": pid, "ppid": stat.ppid, "start": opened["start"],
                           "end": now, "cpu_s": round((stat.cpu_ticks - opened["cpu_ticks"]) / self.ticks, 3)})

    def close(self) -> None:
        for sock in list(self.peers):
            self._drop(sock)
        self.listener.close()

    def _ancestors(self, pid: int | None) -> set[int]:
        """PIDs above ``pid`` among the processes seen, by the parents recorded when each was first seen."""
        parent_of = {p["pid"]: p["ppid"] for p in self.processes.values()}
        found: set[int] = set()
        parent = parent_of.get(pid) if pid is not None else None
        while parent in parent_of and parent not in found:
            found.add(parent)
            parent = parent_of[parent]
        return found

    def _started(self, entry: dict[str, Any], by_pid: dict[int, dict[str, Any]], end: float) -> dict[str, Any]:
        """A process the call started, as ``CallResult.processes`` carries it."""
        role = entry.get("role")
        if role is None:  # never announced: a helper, a multiprocessing child stopped before it could, or other
            # First seen between fork and exec, a helper still carries its parent's command line: the one read
            # at the end mark (every live process's) is the truth for those still running.
            live = {p["pid"]: p for p in self.call.get("live", [])}
            command = live.get(entry["pid"], {}).get("cmdline") or entry.get("cmdline", "")
            parent = (live.get(entry["pid"], {}).get("parent_cmdline") or by_pid.get(entry["ppid"], {}).get("cmdline")
                      or self.proctree.cmdline(entry["ppid"]))
            if self.proctree.is_helper(command, parent):
                role = "helper"
            elif "multiprocessing" in command or command == parent:  # spawn_main, a fork server's or a fork
                role = "unannounced"
            else:
                role = "other"
        live = {p["pid"] for p in self.call.get("live", [])}
        return {"pid": entry["pid"], "ppid": entry["ppid"], "role": role, "target": entry.get("target", ""),
                "start": entry["first"], "last_seen": entry["last"], "cpu_s": entry["cpu_s"],
                "alive_at_end": entry["pid"] in live and entry["last"] >= end,
                **({"exitcode": entry["exitcode"]} if "exitcode" in entry else {})}

    def report(self) -> dict[str, Any]:
        """What the supervisor's Verdict carries (see ``protocol.Verdict``)."""
        call: dict[str, Any] | None = None
        if "begin" in self.call and "end" in self.call:
            begin, end = self.call["begin"], self.call["end"]
            # Not the runner, nor its ancestors (bubblewrap's two processes): they started before it, but a
            # runner that marks its begin quickly may do so before the watchdog first looked at them.
            ancestors = self._ancestors(self.runner_pid)
            started = [p for p in self.processes.values()
                       if p["first"] >= begin["t"] and p["pid"] != self.runner_pid and p["pid"] not in ancestors]
            parents = {p["pid"]: p for p in self.processes.values()}
            call = {"begin": begin["t"], "end": end["t"],
                    "started": [self._started(p, parents, end["t"]) for p in started],
                    "shm_left": self.call.get("shm_left", []), "shm_mapped": self.call.get("shm_mapped", []),
                    "shm_new": self.call.get("shm_new", []),
                    "shm_witnessed": self.proctree.ON_LINUX,
                    "self_cpu_s": (end["self_ticks"] - begin["self_ticks"]) / self.ticks,
                    "children_cpu_s": (end["reaped_ticks"] - begin["reaped_ticks"]) / self.ticks,
                    # The part the runner's children (a fork server) reaped: a PID namespace's teardown can
                    # drop it from the supervisor's RUSAGE_CHILDREN, so the whole-tree check allows for it.
                    "served_cpu_s": max(0, end["served_ticks"] - begin["served_ticks"]) / self.ticks,
                    "processes_started": len(started), "live": self.call["live"]}
        hung = None
        if "begin" in self.call and "end" not in self.call:  # stopped (a hang): what had started by then
            begin, ancestors = self.call["begin"], self._ancestors(self.runner_pid)
            parents = {p["pid"]: p for p in self.processes.values()}
            last = max((p["last"] for p in self.processes.values()), default=begin["t"])
            hung = {"begin": begin["t"], "stopped": last, "case_began": self.call.get("case", begin["t"]),
                    "started": [self._started(p, parents, last) for p in self.processes.values()
                                if p["first"] >= begin["t"] and p["pid"] != self.runner_pid
                                and p["pid"] not in ancestors]}
        return {"runner_pid": self.runner_pid, "witnessed_tasks": self.tasks, "witnessed_call": call,
                "witnessed_hang": hung,
                "witnessed_processes": list(self.processes.values()), "witness_problems": self.problems}
