"""The supervisor: starts one runner, enforces its limits, and kills everything it left.

Runs in its own interpreter (``python -I supervisor.py RUNTIME_PARENT CONFIG``),
started by the launcher in the grading process. It is trusted code and runs
no student code; it imports only the standard library and, from the private
runtime copy, ``mpgrade_sandboxed.proctree``, ``.cgroups`` and ``.protocol``
(where its config and verdict are defined), nothing from mpgrade, so it starts
fast and cannot be shadowed.

    grading process (launcher)
        |  SupervisorConfig file, result pipe's write end (inherited fd)
        v
    supervisor  -- child subreaper: orphans of the call are re-parented here
        |  new session, rlimits, stdout/stderr -> files, wall-clock deadline
        v
    runner (student code) -> workers -> grandchildren (maybe setsid'd)

While the runner runs, a watchdog counts the call's live processes and
their resident memory a few times a second (``RLIMIT_NPROC`` counts per user
and means nothing to root, so the count is the supervisor's own); past
``max_processes`` or ``max_memory_mb`` the call is stopped like a timeout.
Where a cgroup is writable (v2, or v1's pids and memory controllers, e.g.
as root in a container) the runner starts inside a fresh one with
``pids.max`` and a memory cap, so the kernel refuses the fork or the page
before the watchdog even looks.

When the runner exits or a limit is hit, the supervisor gives the call's
processes a moment to finish on their own, then SIGTERM, a short grace
period (so multiprocessing's resource tracker can unlink what it tracks),
then SIGSTOP + SIGKILL sweeps until no descendant is left. Then it removes
what the call left in ``/dev/shm`` (SharedMemory blocks and named
semaphores created during the call that no live process has open), and only
then prints one JSON line (its ``Verdict`` on the run) and exits.
"""
from __future__ import annotations

import ctypes
import json
import os
import signal
import subprocess
import sys
import time

PR_SET_CHILD_SUBREAPER = 36
PR_SET_PDEATHSIG = 1


def _prctl(option: int, value: int) -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(option, value, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


proctree = protocol = cgroups_ = None  # the runtime copy's modules, imported in main()


def _import_runtime(runtime_parent: str) -> None:
    """``proctree``, ``cgroups`` and ``protocol`` from the private runtime copy: nothing else of the engine is imported here."""
    global proctree, protocol, cgroups_
    sys.path.insert(0, runtime_parent)
    from mpgrade_sandboxed import cgroups as cgroups_, proctree, protocol


def _limits(limits: dict[str, int], cgroups: list[str]):
    """What the runner's child does before exec: rlimits, then into the call's cgroup(s)."""

    def apply() -> None:
        import resource

        for name, value in limits.items():
            kind = getattr(resource, name, None)
            if kind is None:
                continue
            try:
                resource.setrlimit(kind, (value, value))
            except (ValueError, OSError):
                pass
        cgroups_.join_cgroups(cgroups)

    return apply


SHM = "/dev/shm"


def shm_entries() -> set[str]:
    try:
        return set(os.listdir(SHM))
    except OSError:
        return set()


def sweep_shm(before: set[str]) -> list[str]:
    """Remove what appeared in /dev/shm during the call and nobody has open any more."""
    new = shm_entries() - before
    if not new:
        return []
    inodes = {}
    for name in new:
        try:
            inodes[name] = os.lstat(os.path.join(SHM, name)).st_ino
        except OSError:
            continue
    # Mapped or open in a live process: maybe another call's, still in use.
    busy = proctree.holding(set(inodes.values()))
    removed = []
    for name, inode in sorted(inodes.items()):
        if inode in busy:
            continue
        try:
            os.unlink(os.path.join(SHM, name))
            removed.append(name)
        except OSError:
            pass
    return removed


def main(runtime_parent: str, config_path: str) -> int:
    _import_runtime(runtime_parent)
    with open(config_path, encoding="utf-8") as handle:
        config = protocol.SupervisorConfig.from_plain(json.load(handle))
    subreaper = _prctl(PR_SET_CHILD_SUBREAPER, 1)
    # If the grading process dies, take the call down with us.
    _prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    stopping = {"now": False}

    def on_term(signum, frame):  # noqa: ARG001
        stopping["now"] = True

    signal.signal(signal.SIGTERM, on_term)
    max_processes = config.max_processes
    max_memory = config.max_memory_mb * 1024 * 1024
    # The cgroup counts threads too (a Pool's parent has several): it is the kernel's backstop
    # against a fork bomb outrunning the watchdog, set well above the watchdog's process count.
    cgroup_mode, cgroups = (cgroups_.make_cgroups(4 * max_processes, max_memory) if config.cgroups else (None, []))
    if config.cpus and hasattr(os, "sched_setaffinity"):
        # A speedup measurement's own CPUs, or the ones no measurement holds: the runner and every
        # process it starts inherit them.
        os.sched_setaffinity(0, config.cpus)
    shm_before = shm_entries()
    started = time.monotonic()
    with open(config.stdout, "wb") as out, open(config.stderr, "wb") as err:
        runner = subprocess.Popen(
            config.argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
            cwd=config.cwd, env=config.env, pass_fds=(config.result_fd,),
            start_new_session=True, close_fds=True,
            preexec_fn=_limits(config.rlimits, cgroups),
        )
    os.close(config.result_fd)
    deadline = started + config.timeout_s
    timed_out, limit, exitcode = False, None, None
    peak_processes, peak_memory, tick = 0, 0, 0
    while True:
        exitcode = runner.poll()
        if exitcode is not None:
            break
        if stopping["now"] or time.monotonic() >= deadline:
            timed_out = not stopping["now"]
            break
        if tick % 5 == 0:  # the watchdog: every 50 ms
            pids = proctree.descendants()
            memory = proctree.resident_bytes(pids)
            peak_processes, peak_memory = max(peak_processes, len(pids)), max(peak_memory, memory)
            if len(pids) > max_processes:
                limit = "processes"
            elif memory > max_memory:
                limit = "memory"
            else:
                limit = cgroups_.cgroup_limit_hit(cgroups)
            if limit:
                break
        tick += 1
        time.sleep(0.01)
    elapsed = time.monotonic() - started
    killed = proctree.kill_descendants(settle_s=0.0 if (timed_out or limit) else config.settle_s,
                                       grace_s=config.grace_s)
    if exitcode is None:
        exitcode = runner.poll()
    left = proctree.descendants()
    limit = limit or cgroups_.cgroup_limit_hit(cgroups)
    cgroups_.remove_cgroups(cgroups)
    verdict = protocol.Verdict(
        exitcode=exitcode, timed_out=timed_out, limit=limit, interrupted=stopping["now"],
        elapsed_s=round(elapsed, 4), killed=[k for k in killed if k["pid"] != runner.pid], left_alive=left,
        subreaper=subreaper, cgroup=cgroup_mode, peak_processes=max(peak_processes, len(killed)),
        peak_memory_mb=round(peak_memory / 2**20),
        limits={"max_processes": max_processes, "max_memory_mb": max_memory // 2**20},
        shm_swept=sweep_shm(shm_before) if not left else [],
    )
    sys.stdout.write(verdict.to_line())
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
