"""Which processes descend from a process, read straight from ``/proc`` (supervisor and runner).

psutil answers the same questions, but importing it costs tens of
milliseconds in both interpreters of every sandboxed call, and the
supervisor's watchdog asks several times a second while a call runs. On
Linux the process table is read from ``/proc`` directly; elsewhere psutil
does it. Standard library only (plus psutil off Linux): the supervisor loads
this file without importing anything else of the engine.
"""
from __future__ import annotations

import os
import sys

ON_LINUX = sys.platform.startswith("linux")


def _table() -> dict[int, tuple[int, str]]:
    """pid -> (parent pid, state letter) for every process we can see."""
    table: dict[int, tuple[int, str]] = {}
    if not ON_LINUX:
        import psutil

        for proc in psutil.process_iter(["ppid", "status"]):
            zombie = proc.info["status"] == psutil.STATUS_ZOMBIE
            table[proc.pid] = (proc.info["ppid"] or 0, "Z" if zombie else "R")
        return table
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as handle:
                data = handle.read()
        except OSError:  # gone meanwhile
            continue
        # "pid (comm) state ppid ...": comm may hold spaces and parentheses.
        fields = data[data.rindex(b")") + 2:].split()
        table[int(entry.name)] = (int(fields[1]), fields[0].decode("ascii", "replace"))
    return table


def descendants(root: int | None = None, zombies: bool = False) -> list[int]:
    """PIDs of every process below ``root`` (default: this one), parents before children."""
    root = os.getpid() if root is None else root
    table = _table()
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    found, queue = [], list(children.get(root, ()))
    while queue:
        pid = queue.pop(0)
        found.append(pid)
        queue.extend(children.get(pid, ()))
    return [pid for pid in found if zombies or table[pid][1] != "Z"]


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


def with_environment(name: str, value: str) -> list[int]:
    """PIDs of live processes whose start-up environment holds ``name=value`` (Linux; empty elsewhere)."""
    if not ON_LINUX:
        return []
    wanted = f"{name}={value}".encode()
    found = []
    for pid, (_, state) in _table().items():
        if state == "Z" or pid == os.getpid():
            continue
        try:
            with open(f"/proc/{pid}/environ", "rb") as handle:
                if wanted in handle.read().split(b"\0"):
                    found.append(pid)
        except OSError:
            continue
    return found


CGROUP_ROOT = "/sys/fs/cgroup"


def call_cgroups(supervisor_pid: int) -> dict[str, str]:
    """Where the cgroup of the call supervised by ``supervisor_pid`` lives, per hierarchy.

    "v2" in the unified hierarchy, "pids" and "memory" under cgroup v1. The
    supervisor creates the ones it can; the grading process looks in all of
    them if the supervisor was killed before cleaning up.
    """
    name = f"mpgrade-{supervisor_pid}"
    return {"v2": os.path.join(CGROUP_ROOT, name), "pids": os.path.join(CGROUP_ROOT, "pids", name),
            "memory": os.path.join(CGROUP_ROOT, "memory", name)}
