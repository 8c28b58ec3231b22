"""Who waits where: a call's threads read from the kernel, and its Python stacks on request (both halves).

A deadlock is every process of the call waiting for another one, forever.
Two halves, as in ``witness.py``:

    runner / every process of the call (student code next to it)       supervisor (trusted, no student code)
    ------------------------------------------------------------       -------------------------------------
    ``arm()``: faulthandler registered on DUMP_SIGNAL, writing to       ``DeadlockWatch.look``: every thread of every
    STACKS_DIR/<pid as it sees itself>.txt (the runner at start, every     live process blocked in a wait with no
    forked child through ``os.register_at_fork``, every spawn or           timeout (``/proc/PID/task/TID/syscall``) and
    forkserver child when it announces itself to the witness)             no CPU used for HOLD_S: a deadlock now
                                                          <-- DUMP_SIGNAL  ``dump_stacks``: before the call is stopped
    faulthandler writes every thread's Python stack, from C, even in a
    blocking system call, and the call goes on waiting

What blocks (a read, a lock, ``join``) and whether with a timeout is the
kernel's word (the system call and its arguments): student code cannot
forge it. The Python stacks are written by the student's own processes, so
they only shape the feedback's words (which line, which queue), never a
verdict. Standard library only.

It runs past 300 lines on purpose: both halves stay in one module, as in ``witness.py``.
"""
from __future__ import annotations

import faulthandler
import os
import platform
import signal
import sys
from dataclasses import asdict, dataclass

from mpgrade_sandboxed import proctree

STACKS_ENV = "MPGRADE_STACKS"
"""Folder the call's processes write their stacks into (set by the runner; inherited)."""
DUMP_SIGNAL = getattr(signal, "SIGRTMIN", signal.SIGUSR2) + (4 if hasattr(signal, "SIGRTMIN") else 0)
"""A real-time signal student code has no reason to use (SIGUSR2 where there are none)."""
HOLD_S = 1.0
"""How long every process must have waited without a timeout, and used no CPU, before the call is a deadlock."""
WATCHER_FIRST_S = 1.0
"""Added to the hold while a process runs one of the runtime's own watchers (poolwatch's import watcher names a
Pool's import deadlock more precisely, after its own 1 s): the more specific diagnosis gets the first word."""
LOOK_S = 0.2
"""How often the supervisor looks (each look reads two small /proc files per thread)."""
MAX_STACK_BYTES = 64 * 1024

# System calls that block until something happens, by architecture: name -> (number, index of the timeout
# argument or None when the call has none, how a "no timeout" reads: "null" pointer or "negative" milliseconds).
_X86_64 = {
    "read": (0, None, ""), "write": (1, None, ""), "readv": (19, None, ""), "writev": (20, None, ""),
    "poll": (7, 2, "negative"), "select": (23, 4, "null"), "pause": (34, None, ""), "nanosleep": (35, 0, "timed"),
    "accept": (43, None, ""), "sendto": (44, None, ""), "recvfrom": (45, None, ""), "sendmsg": (46, None, ""),
    "recvmsg": (47, None, ""), "wait4": (61, None, ""), "flock": (73, None, ""), "rt_sigtimedwait": (128, 2, "null"),
    "rt_sigsuspend": (130, None, ""), "futex": (202, 3, "null"), "clock_nanosleep": (230, 2, "timed"),
    "epoll_wait": (232, 3, "negative"), "waitid": (247, None, ""), "pselect6": (270, 4, "null"),
    "ppoll": (271, 2, "null"), "epoll_pwait": (281, 3, "negative"), "accept4": (288, None, ""),
    "epoll_pwait2": (441, 3, "null"), "futex_waitv": (449, 3, "null"),
}
_AARCH64 = {
    "read": (63, None, ""), "write": (64, None, ""), "readv": (65, None, ""), "writev": (66, None, ""),
    "pselect6": (72, 4, "null"), "ppoll": (73, 2, "null"), "epoll_pwait": (22, 3, "negative"),
    "futex": (98, 3, "null"), "nanosleep": (101, 0, "timed"), "clock_nanosleep": (115, 2, "timed"),
    "rt_sigsuspend": (133, None, ""), "rt_sigtimedwait": (137, 2, "null"), "waitid": (95, None, ""),
    "accept": (202, None, ""), "sendto": (206, None, ""), "recvfrom": (207, None, ""), "sendmsg": (211, None, ""),
    "recvmsg": (212, None, ""), "accept4": (242, None, ""), "wait4": (260, None, ""), "flock": (32, None, ""),
    "epoll_pwait2": (441, 3, "null"), "futex_waitv": (449, 3, "null"),
}
_TABLES = {"x86_64": _X86_64, "amd64": _X86_64, "aarch64": _AARCH64, "arm64": _AARCH64}
_BY_NUMBER = {number: (name, index, none) for name, (number, index, none)
              in _TABLES.get(platform.machine().lower(), {}).items()}
FUTEX_CMD_MASK = ~(128 | 256)  # FUTEX_PRIVATE_FLAG, FUTEX_CLOCK_REALTIME
FUTEX_WAITS = {0, 9, 11}  # FUTEX_WAIT, FUTEX_WAIT_BITSET, FUTEX_WAIT_REQUEUE_PI; FUTEX_LOCK_PI (6) waits too
FUTEX_LOCK_PI = {6, 12}


def supported() -> bool:
    """Whether waits can be read here: Linux, a known architecture, and /proc/PID/syscall."""
    return bool(_BY_NUMBER) and os.path.exists("/proc/self/syscall")


# -- the supervisor's half: what the kernel says ----------------------------------------------------


@dataclass(frozen=True)
class ThreadWait:
    """One thread as the kernel has it: ``kind`` is "running", "waiting" (no timeout: only another process can
    end it), "timed" (a sleep or a wait with a timeout) or "other" (a system call that is neither, or unknown)."""

    tid: int
    kind: str
    syscall: str = ""


def thread_wait(pid: int, tid: int) -> ThreadWait | None:
    """What ``tid`` of ``pid`` is doing now; None if it is gone or cannot be read."""
    try:
        with open(f"/proc/{pid}/task/{tid}/syscall") as handle:
            fields = handle.read().split()
    except OSError:
        return None
    if not fields:
        return None
    if fields[0] == "running":
        return ThreadWait(tid, "running")
    try:
        number, args = int(fields[0]), [int(a, 16) for a in fields[1:7]]
    except ValueError:
        return ThreadWait(tid, "other")
    if number < 0:  # in the kernel but not in a system call (a page fault)
        return ThreadWait(tid, "running")
    known = _BY_NUMBER.get(number)
    if known is None or len(args) < 6:
        return ThreadWait(tid, "other", str(number))
    name, index, none = known
    if name == "futex":
        op = args[1] & FUTEX_CMD_MASK
        if op in FUTEX_LOCK_PI:
            return ThreadWait(tid, "timed" if args[3] else "waiting", name)
        if op not in FUTEX_WAITS:
            return ThreadWait(tid, "other", name)
    if index is None:
        return ThreadWait(tid, "waiting", name)
    if none == "timed":
        return ThreadWait(tid, "timed", name)
    value = args[index]
    forever = value == 0 if none == "null" else value >= 2**31  # a negative int, as the kernel shows it unsigned
    return ThreadWait(tid, "waiting" if forever else "timed", name)


OUR_THREADS = "mpgrade-"
"""Kernel name prefix of the sandbox runtime's own threads (``name_this_thread``): a watcher that polls with a
timeout is not the student's, and must not keep a deadlock from being seen."""


def name_this_thread(name: str) -> None:
    """Give the calling thread a kernel name (``/proc/PID/task/TID/comm``, 15 bytes) starting with OUR_THREADS."""
    proctree.prctl(proctree.PR_SET_NAME, (OUR_THREADS + name).encode()[:15])


def _ours(pid: int, tid: int) -> bool:
    try:
        with open(f"/proc/{pid}/task/{tid}/comm") as handle:
            return handle.read().startswith(OUR_THREADS)
    except OSError:
        return False


def process_waits(pid: int) -> list[ThreadWait]:
    """Every thread of ``pid`` but the runtime's own watchers (empty if it is gone)."""
    return _threads(pid)[0]


def _threads(pid: int) -> tuple[list[ThreadWait], bool]:
    """``pid``'s threads' waits, the runtime's own watchers left out, and whether it has one."""
    try:
        tids = [int(t) for t in os.listdir(f"/proc/{pid}/task")]
    except (OSError, ValueError):
        return [], False
    found, watcher = [], False
    for tid in sorted(tids):
        if tid != pid and _ours(pid, tid):
            watcher = True
            continue
        wait = thread_wait(pid, tid)
        if wait is not None:
            found.append(wait)
    return found, watcher


def _state_and_ticks(pid: int) -> tuple[str, int] | None:
    stat = proctree.proc_stat(pid)
    return (stat.state, stat.cpu_ticks) if stat is not None else None


@dataclass(frozen=True)
class ProcessWait:
    """One live process of a stopped call, as the supervisor saw it: its PID from the supervisor's side and as it
    sees itself (inside bubblewrap's PID namespace they differ), its state and its threads' waits."""

    pid: int
    own_pid: int
    state: str
    """"waiting" (every thread waits with no timeout), "timed", "running" or "other"."""
    syscalls: list[str]
    """The main thread's system call first, then the others'."""
    command: str = ""
    """Its command line now (after any exec: multiprocessing's helpers are told apart by it)."""
    ppid: int = 0

    def to_plain(self) -> dict:
        return asdict(self)


def describe(pid: int) -> ProcessWait | None:
    """``pid``'s waits now; None if it is gone or a zombie."""
    facts = _state_and_ticks(pid)
    if facts is None or facts[0] in ("Z", "X"):
        return None
    waits = process_waits(pid)
    if not waits:
        return None
    kinds = {w.kind for w in waits}
    state = ("running" if "running" in kinds else "other" if "other" in kinds
             else "timed" if "timed" in kinds else "waiting")
    stat = proctree.proc_stat(pid)
    return ProcessWait(pid, own_pid(pid), state, [w.syscall or w.kind for w in waits], proctree.cmdline(pid)[:200],
                       stat.ppid if stat is not None else 0)


def own_pid(pid: int) -> int:
    """``pid`` as the process sees itself (its innermost PID namespace's number)."""
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith("NSpid:"):
                    return int(line.split()[-1])
    except (OSError, ValueError, IndexError):
        pass
    return pid


class DeadlockWatch:
    """The supervisor's look for a deadlock: every live process of the call waiting with no timeout, none using
    CPU, the same processes, for ``hold_s`` (a sleep, a poll with a timeout or a busy thread resets it)."""

    def __init__(self, hold_s: float = HOLD_S, exempt: set[int] | frozenset = frozenset()) -> None:
        self.hold_s = hold_s
        self.exempt = set(exempt)
        """PIDs that count as waiting whatever they do (none by default)."""
        self._since: float | None = None
        self._seen: tuple[frozenset[int], int] | None = None
        self._next = 0.0

    def look(self, pids: list[int], now: float) -> bool:
        """True once the call has been deadlocked for ``hold_s``; looks at most every LOOK_S."""
        if now < self._next:
            return False
        self._next = now + LOOK_S
        ticks, live, watched = 0, set(), False
        for pid in pids:
            facts = _state_and_ticks(pid)
            if facts is None or facts[0] in ("Z", "X"):
                continue
            live.add(pid)
            ticks += facts[1]
            if pid in self.exempt:
                continue
            waits, watcher = _threads(pid)
            watched = watched or watcher
            if facts[0] not in ("S",) or any(w.kind != "waiting" for w in waits):
                self._since, self._seen = None, None
                return False
        seen = (frozenset(live), ticks)
        if not live or seen != self._seen:
            self._since, self._seen = (now if live else None), (seen if live else None)
            return False
        return now - self._since >= self.hold_s + (WATCHER_FIRST_S if watched else 0.0)


def dump_stacks(pids: list[int], folder: str) -> list[int]:
    """Ask each process of ``pids`` that armed itself (its stack file exists) to write its Python stacks; the
    PIDs asked. faulthandler writes from its signal handler, so the files are complete when this returns after a
    short wait."""
    import time

    asked = []
    for pid in pids:
        path = os.path.join(folder, f"{own_pid(pid)}.txt")
        try:
            if os.path.getsize(path) != 0:  # armed files are empty until asked; a second ask adds nothing
                continue
            os.kill(pid, DUMP_SIGNAL)
            asked.append(pid)
        except OSError:
            continue
    deadline = time.monotonic() + 0.3
    while asked and time.monotonic() < deadline:
        if all(_size(os.path.join(folder, f"{own_pid(pid)}.txt")) > 0 for pid in asked):
            break
        time.sleep(0.01)
    return asked


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


# -- the sandbox's half: every process of the call ---------------------------------------------------

_armed: dict[str, object] = {}


def arm() -> None:
    """Write this process's Python stacks to STACKS_DIR/<pid>.txt when the supervisor sends DUMP_SIGNAL (the runner,
    and every process of the call; a fork re-arms the child with its own file)."""
    folder = os.environ.get(STACKS_ENV)
    if not folder or not hasattr(faulthandler, "register"):
        return
    pid = os.getpid()
    if _armed.get("pid") == pid:
        return
    try:
        handle = open(os.path.join(folder, f"{pid}.txt"), "w")  # noqa: SIM115  (open for the process's life)
        faulthandler.register(DUMP_SIGNAL, file=handle, all_threads=True, chain=False)
    except (OSError, ValueError, RuntimeError):
        return
    old = _armed.get("handle")
    _armed.update(pid=pid, handle=handle)
    if old is not None:
        try:
            old.close()  # the parent's file object, inherited through fork
        except OSError:
            pass


def arm_forks() -> None:
    """In the runner: arm it, and every child it or its descendants fork (Process under fork, os.fork)."""
    arm()
    if hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=arm)


def read_stack(folder: str, own: int) -> str:
    """The stack file ``own`` wrote (capped), for the trusted side; "" if none."""
    try:
        with open(os.path.join(folder, f"{own}.txt"), "rb") as handle:
            return handle.read(MAX_STACK_BYTES).decode("utf-8", "replace")
    except OSError:
        return ""


if sys.platform == "win32":  # pragma: no cover  (no fork, no faulthandler.register)
    def arm() -> None:  # noqa: F811
        return None
