"""The cgroup of one sandboxed call: made, joined, watched and removed here (runs in the supervisor).

Where a cgroup hierarchy is writable (root, or a delegated subtree), each
call gets its own cgroup with ``pids.max`` and a memory cap: the kernel then
refuses the fork bomb's next fork and OOM-kills inside the call only. The
supervisor makes it, the runner joins it before exec, the watchdog reads its
event counters, and the grading process's sweep (``proctree.sweep_call``)
finds it by the supervisor's PID if the supervisor was killed. Standard
library only (the supervisor imports it from the private runtime copy).
"""
from __future__ import annotations

import os
import sys

ON_LINUX = sys.platform.startswith("linux")
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


def make_cgroups(max_processes: int, max_memory: int) -> tuple[str | None, list[str]]:
    """A fresh cgroup for this supervisor's call where one is writable: (mode, its folders); (None, []) elsewhere."""
    if not ON_LINUX:
        return None, []
    folders_for = call_cgroups(os.getpid())
    v2 = os.path.join(CGROUP_ROOT, "cgroup.controllers")
    if os.path.exists(v2):
        try:
            with open(v2) as handle:
                controllers = handle.read().split()
            if "pids" in controllers and "memory" in controllers:
                folder = folders_for["v2"]
                os.mkdir(folder)
                _write(os.path.join(folder, "pids.max"), max_processes)
                _write(os.path.join(folder, "memory.max"), max_memory)
                return "v2", [folder]
        except OSError:
            pass
        return None, []
    folders = []
    try:
        for controller, knob, value in (("pids", "pids.max", max_processes),
                                        ("memory", "memory.limit_in_bytes", max_memory)):
            folder = folders_for[controller]
            os.mkdir(folder)
            folders.append(folder)
            _write(os.path.join(folder, knob), value)
        return "v1", folders
    except OSError:
        remove_cgroups(folders)
        return None, []


def _write(path: str, value: int) -> None:
    with open(path, "w") as handle:
        handle.write(str(value))


def join_cgroups(folders: list[str]) -> None:
    """Move this process into each cgroup of ``folders`` (the runner, before exec)."""
    for folder in folders:
        try:
            _write(os.path.join(folder, "cgroup.procs"), os.getpid())
        except OSError:
            pass


def cgroup_members(folder: str) -> list[int]:
    """PIDs in the cgroup at ``folder`` (empty if it is gone)."""
    try:
        with open(os.path.join(folder, "cgroup.procs")) as handle:
            return [int(line) for line in handle.read().split()]
    except (OSError, ValueError):
        return []


def _counter(path: str, key: str) -> int:
    try:
        with open(path) as handle:
            for line in handle:
                name, _, value = line.partition(" ")
                if name == key:
                    return int(value)
    except (OSError, ValueError):
        pass
    return 0


def cgroup_limit_hit(folders: list[str]) -> str | None:
    """"processes" if the kernel refused a fork in the call's cgroup, "memory" if it OOM-killed in it."""
    for folder in folders:
        if _counter(os.path.join(folder, "pids.events"), "max"):
            return "processes"
        if (_counter(os.path.join(folder, "memory.events"), "oom_kill")
                or _counter(os.path.join(folder, "memory.oom_control"), "oom_kill")):
            return "memory"
    return None


def remove_cgroups(folders: list[str]) -> None:
    for folder in folders:
        try:
            os.rmdir(folder)
        except OSError:
            pass
