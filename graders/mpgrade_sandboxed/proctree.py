"""Process trees: the one place that reads ``/proc``, finds a call's processes and kills them (cgroups: ``cgroups``).

Runs in four kinds of process, and everyone who kills or counts processes
calls it: the supervisor (its watchdog, the kill sweeps after a call, the
call's cgroup, /dev/shm holders), the runner (processes the call left
running), the launcher in the grading process (its backstop and the sweep
after a killed supervisor) and the ``mpgrade`` command (stopping a grading
pytest that ran out of time).

psutil answers the same questions, but importing it costs tens of
milliseconds in both interpreters of every sandboxed call, and the
supervisor's watchdog asks several times a second while a call runs. On
Linux the process table is read from ``/proc`` directly; elsewhere psutil
does it. Standard library only (plus psutil off Linux): the supervisor
imports this module from the private runtime copy and nothing else of the
engine but ``protocol``.

It runs past 300 lines on purpose: it is the one owner of reading ``/proc`` and of killing
process trees, for every kind of process that does either.
"""
from __future__ import annotations

import os
import signal
import sys
import time
from typing import Callable, NamedTuple

from mpgrade_sandboxed.cgroups import call_cgroups, cgroup_members, remove_cgroups

ON_LINUX = sys.platform.startswith("linux")
CALL_MARK = "MPGRADE_CALL"
"""Environment variable every process of a call inherits: how to find them if the supervisor is killed."""


# -- reading /proc --------------------------------------------------------------------------------

def _table() -> dict[int, tuple[int, str, float]]:
    """pid -> (parent pid, state letter, start time) for every process we can see."""
    table: dict[int, tuple[int, str, float]] = {}
    if not ON_LINUX:
        import psutil

        for proc in psutil.process_iter(["ppid", "status", "create_time"]):
            zombie = proc.info["status"] == psutil.STATUS_ZOMBIE
            table[proc.pid] = (proc.info["ppid"] or 0, "Z" if zombie else "R", proc.info["create_time"] or 0.0)
        return table
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as handle:
                data = handle.read()
        except OSError:  # gone meanwhile
            continue
        # "pid (comm) state ppid ... starttime(22nd) ...": comm may hold spaces and parentheses.
        fields = data[data.rindex(b")") + 2:].split()
        table[int(entry.name)] = (int(fields[1]), fields[0].decode("ascii", "replace"), float(fields[19]))
    return table


def descendants(root: int | None = None, zombies: bool = False) -> list[int]:
    """PIDs of every process below ``root`` (default: this one), parents before children."""
    root = os.getpid() if root is None else root
    table = _table()
    children: dict[int, list[int]] = {}
    for pid, (ppid, _, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    found, queue = [], list(children.get(root, ()))
    while queue:
        pid = queue.pop(0)
        found.append(pid)
        queue.extend(children.get(pid, ()))
    return [pid for pid in found if zombies or table[pid][1] != "Z"]


PR_SET_PDEATHSIG, PR_SET_NAME, PR_SET_CHILD_SUBREAPER = 1, 15, 36


def prctl(option: int, value: int | bytes) -> bool:
    """``prctl(option, value)`` on Linux (a parent-death signal, a subreaper, a thread's name); False elsewhere or
    when it fails."""
    if not ON_LINUX:
        return False
    import ctypes

    try:
        return ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def descendants_except(root: int, keep: set[int]) -> list[int]:
    """Live PIDs below ``root`` but for ``keep`` and everything below them (the template's orphans: what is not
    under a live supervisor)."""
    table = _table()
    children: dict[int, list[int]] = {}
    for pid, (ppid, _, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    found, queue = [], [pid for pid in children.get(root, ()) if pid not in keep]
    while queue:
        pid = queue.pop(0)
        found.append(pid)
        queue.extend(children.get(pid, ()))
    return [pid for pid in found if table[pid][1] != "Z"]


def children(pid: int) -> list[int]:
    """``pid``'s children, zombies too (one file where the kernel lists them; the whole table elsewhere)."""
    if ON_LINUX:
        try:
            found: list[int] = []
            for task in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{task}/children") as handle:
                    found += [int(child) for child in handle.read().split()]
            return found
        except (OSError, ValueError):
            pass
    return [child for child, (ppid, _, _) in _table().items() if ppid == pid]


TICKS_PER_S = os.sysconf("SC_CLK_TCK") if ON_LINUX else 100
"""Clock ticks per second in ``ProcStat``'s CPU figures (psutil's are turned into hundredths off Linux)."""


class ProcStat(NamedTuple):
    """One process's kernel facts, as the witness records them (``proc_stat``)."""

    ppid: int
    state: str
    cpu_ticks: int
    """utime + stime, in clock ticks (all threads)."""
    children_ticks: int
    """cutime + cstime: CPU of the children this process has reaped."""
    start_ticks: int
    """Start time after boot, in clock ticks: with the PID, names one process even after PID reuse."""


def proc_stat(pid: int) -> ProcStat | None:
    """``pid``'s ``/proc/PID/stat`` facts (psutil off Linux, in hundredths of a second); None if it is gone."""
    if not ON_LINUX:
        try:
            import psutil

            proc = psutil.Process(pid)
            times = proc.cpu_times()
            return ProcStat(proc.ppid(), "R", round(100 * (times.user + times.system)),
                            round(100 * (times.children_user + times.children_system)),
                            round(100 * proc.create_time()))
        except Exception:
            return None
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            data = handle.read()
        fields = data[data.rindex(b")") + 2:].split()
        return ProcStat(int(fields[1]), fields[0].decode("ascii", "replace"), int(fields[11]) + int(fields[12]),
                        int(fields[13]) + int(fields[14]), int(fields[19]))
    except (OSError, ValueError, IndexError):
        return None


def subtree_cpu_ticks(root: int) -> int:
    """CPU clock ticks used below ``root``: its descendants' own and their reaped children's, and the children
    ``root`` reaped; not ``root``'s own (a supervisor's watchdog is not the call's work)."""
    total = 0
    for pid in [root, *descendants(root, zombies=True)]:
        stat = proc_stat(pid)
        if stat is not None:
            total += stat.children_ticks + (stat.cpu_ticks if pid != root else 0)
    return total


def cmdline(pid: int) -> str:
    """The command line of ``pid`` ("?" if it is gone or hidden)."""
    if not ON_LINUX:
        try:
            import psutil

            return " ".join(psutil.Process(pid).cmdline())
        except Exception:
            return "?"
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return handle.read().replace(b"\0", b" ").decode("utf-8", "replace").strip() or "?"
    except OSError:
        return "?"


TRACKER, FORK_SERVER = "resource_tracker", "forkserver"
"""Words in the command lines of multiprocessing's own helper processes (started by exec)."""


def is_helper(command: str, parent_command: str) -> bool:
    """Whether a process is one of multiprocessing's own helpers, not a worker the student started.

    A fork server's workers are forked from it, so their command line is the
    server's own ("... multiprocessing.forkserver ..."): a process with that
    line whose parent has it too is a worker, and counts like any other.
    """
    if TRACKER in command:
        return True
    return FORK_SERVER in command and FORK_SERVER not in parent_command


def parent_command(pid: int) -> str:
    """The command line of ``pid``'s parent ("?" if either is gone)."""
    stat = proc_stat(pid)
    return cmdline(stat.ppid) if stat is not None else "?"


def with_environment(name: str, value: str) -> list[int]:
    """PIDs of live processes whose start-up environment holds ``name=value`` (Linux; empty elsewhere)."""
    if not ON_LINUX:
        return []
    wanted = f"{name}={value}".encode()
    found = []
    for pid, (_, state, _) in _table().items():
        if state == "Z" or pid == os.getpid():
            continue
        try:
            with open(f"/proc/{pid}/environ", "rb") as handle:
                if wanted in handle.read().split(b"\0"):
                    found.append(pid)
        except OSError:
            continue
    return found


def resident_bytes(pids: list[int]) -> int:
    """Resident memory of ``pids`` together (Linux; 0 elsewhere)."""
    total = 0
    page = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
    for pid in pids:
        try:
            with open(f"/proc/{pid}/statm", "rb") as handle:
                total += int(handle.read().split()[1]) * page
        except (OSError, IndexError, ValueError):
            pass
    return total


SHM_DIR = "/dev/shm"


def shm_names(root: str = "") -> set[str]:
    """The SharedMemory blocks in /dev/shm now (named semaphores, ``sem.*``, left out); empty off Linux.

    ``root``: ``/proc/PID/root`` to see the /dev/shm of ``PID``'s mount namespace (bubblewrap gives the
    runner a private one)."""
    if not ON_LINUX:
        return set()
    try:
        return {name for name in os.listdir(root + SHM_DIR) if not name.startswith("sem.")}
    except OSError:
        return set()


def shm_mapped(pid: int) -> list[str]:
    """The SharedMemory blocks ``pid`` has mapped (unlinked ones too): what close() would have unmapped."""
    found: list[str] = []
    try:
        with open(f"/proc/{pid}/maps", "rb") as handle:
            for line in handle:
                fields = line.split(None, 5)
                if len(fields) == 6 and fields[5].startswith(b"/dev/shm/"):
                    name = fields[5][9:].strip().removesuffix(b" (deleted)").decode(errors="replace")
                    if not name.startswith("sem.") and name not in found:
                        found.append(name)
    except OSError:
        pass
    return found


def shm_not_held_outside(names: set[str], inside: set[int], root: str = "") -> set[str]:
    """Those of ``names`` (in /dev/shm) that no live process outside ``inside`` has mapped or open: on a machine
    grading several calls at once, a block new since a call began is that call's only if no other call holds it."""
    inodes = {}
    for name in names:
        try:
            inodes[name] = os.lstat(root + os.path.join(SHM_DIR, name)).st_ino
        except OSError:
            continue
    busy = holding(set(inodes.values()), skip=inside)
    return {name for name, inode in inodes.items() if inode not in busy}


def holding(inodes: set[int], folder: bytes = b"/dev/shm/", skip: set[int] | frozenset = frozenset()) -> set[int]:
    """Those of ``inodes`` (files in ``folder``) that some live process (not in ``skip``) has mapped or open.

    Matched by inode, not by name: glibc creates a named semaphore under a
    temporary name, maps it, then links it to its real name, so ``maps``
    shows the temporary name (deleted).
    """
    busy: set[int] = set()
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit() or int(entry.name) in skip:
            continue
        try:
            with open(f"/proc/{entry.name}/maps", "rb") as handle:
                for line in handle:
                    fields = line.split(None, 5)
                    # ``in``, not ``startswith``: a process in a chroot with /dev/shm bound in shows the mount's
                    # path from our root (/ROOT/dev/shm/...), and its semaphores are still held.
                    if len(fields) == 6 and folder in fields[5] and int(fields[4]) in inodes:
                        busy.add(int(fields[4]))
            for fd in os.scandir(f"/proc/{entry.name}/fd"):
                try:
                    inode = os.stat(fd.path).st_ino
                except OSError:
                    continue
                if inode in inodes:
                    busy.add(inode)
        except (OSError, ValueError):
            continue
    return busy


# -- killing --------------------------------------------------------------------------------------

def signal_all(pids: list[int], sig: int) -> None:
    for pid in pids:
        try:
            os.kill(pid, sig)
        except (ProcessLookupError, PermissionError):
            pass


def reap_children() -> None:
    """Collect this process's exited children (a subreaper's orphans too) without waiting."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def kill_descendants(settle_s: float, grace_s: float) -> list[dict]:
    """Kill every descendant of this process (the supervisor); return what had to be killed.

    First ``settle_s`` for them to end on their own, then SIGTERM and ``grace_s``
    (so multiprocessing's resource tracker can unlink what it tracks), then
    SIGSTOP + SIGKILL sweeps until none is left.
    """
    killed: dict[int, dict] = {}
    deadline = time.monotonic() + settle_s
    while descendants() and time.monotonic() < deadline:
        reap_children()
        time.sleep(0.02)
    pids = descendants()
    for pid in pids:
        killed[pid] = {"pid": pid, "cmdline": cmdline(pid)[:200]}
    if pids:
        signal_all(pids, signal.SIGTERM)
        deadline = time.monotonic() + grace_s
        while descendants() and time.monotonic() < deadline:
            reap_children()
            time.sleep(0.02)
    # Freeze before killing so a forking process cannot outrun the sweep.
    for _ in range(1000):
        pids = descendants()
        if not pids:
            break
        for pid in pids:
            killed.setdefault(pid, {"pid": pid, "cmdline": "?"})
        signal_all(pids, signal.SIGSTOP)
        signal_all(descendants(), signal.SIGKILL)
        reap_children()
        time.sleep(0.01)
    reap_children()
    return list(killed.values())


def kill_session(leader: int) -> None:
    """SIGKILL ``leader``'s descendants (in sessions of their own or not) and its whole process group."""
    signal_all(descendants(leader), signal.SIGKILL)
    try:
        os.killpg(leader, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def sweep_call(mark: str, supervisor_pid: int) -> None:
    """Kill every process of a call whose supervisor is gone: its cgroup's members and every process
    carrying its ``CALL_MARK``, until none is left; remove the cgroup."""
    for folder in call_cgroups(supervisor_pid).values():
        for _ in range(100):
            pids = cgroup_members(folder)
            if not pids:
                break
            signal_all(pids, signal.SIGKILL)
            time.sleep(0.02)
        remove_cgroups([folder])
    for _ in range(100):
        marked = with_environment(CALL_MARK, mark)
        if not marked:
            return
        signal_all(marked, signal.SIGSTOP)
        signal_all(marked, signal.SIGKILL)
        time.sleep(0.02)


def stop_session(leader: int, reap: Callable[[], object], grace_s: float = 10.0) -> None:
    """Stop a process that leads a session (a grading pytest) and everything under it; return once all is gone.

    The session dies at once (SIGKILL; ``reap`` waits for the leader). What
    runs in sessions of its own (sandbox supervisors) gets SIGTERM, on which
    each kills its call's whole tree; whatever is left after ``grace_s`` is killed.
    """
    table = _table()
    tree = {pid: table[pid][2] for pid in descendants(leader) if pid in table}
    try:
        os.killpg(leader, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    reap()
    signal_all(_still_running(tree), signal.SIGTERM)
    for sig, wait_s in ((signal.SIGKILL, grace_s), (None, 5.0)):
        deadline = time.monotonic() + wait_s
        while _still_running(tree) and time.monotonic() < deadline:
            time.sleep(0.05)
        if sig is not None:
            signal_all(_still_running(tree), sig)


def _still_running(started: dict[int, float]) -> list[int]:
    """Those of ``started`` (pid -> start time) still running: not gone, not a zombie, not a reused PID."""
    table = _table()
    return [pid for pid, start in started.items()
            if pid in table and table[pid][1] != "Z" and table[pid][2] == start]
