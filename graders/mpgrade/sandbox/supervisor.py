"""The supervisor: starts one runner, enforces its limits, and kills everything it left.

Runs in its own process: forked from the grading process's template
(``template.py``, which imported this module once), or as a fresh
interpreter (``python -I supervisor.py RUNTIME_PARENT CONFIG``) started by
the launcher in the grading process. It is trusted code and runs
no student code; it imports only the standard library and, from the private
runtime copy, ``mpgrade_sandboxed.proctree``, ``.cgroups``, ``.witness`` and
``.protocol`` (where its config and verdict are defined), nothing from mpgrade, so it starts
fast and cannot be shadowed.

    grading process (launcher)
        |  SupervisorConfig file, result pipe's write end (inherited, or sent through the template)
        v
    supervisor  -- child subreaper: orphans of the call are re-parented here
        |  new session, rlimits, stdout/stderr -> files, wall-clock deadline
        v
    runner (student code) -> workers -> grandchildren (maybe setsid'd)

The runner is a fresh interpreter inside bubblewrap or Seatbelt; elsewhere
it is the child this supervisor forked at its first step, before it read its
config (``mpgrade_sandboxed/warmstart.py``), started with a ``RunnerStart``.

While the runner runs, a watchdog counts the call's live processes,
their resident memory and what the call has written (its folder and /dev/shm;
``mpgrade_sandboxed/written.py``) a few times a second (``RLIMIT_NPROC`` counts per user
and means nothing to root, so the count is the supervisor's own); past
``max_processes``, ``max_memory_mb`` or ``max_written_mb`` the call is stopped like a timeout.
Where a cgroup is writable (v2, or v1's pids and memory controllers, e.g.
as root in a container) the runner starts inside a fresh one with
``pids.max`` and a memory cap, so the kernel refuses the fork or the page
before the watchdog even looks.

The supervisor is also the call's witness (``mpgrade_sandboxed/witness.py``):
it listens on an AF_UNIX socket, and between watchdog rounds it waits on
that socket (select, 10 ms at most) instead of sleeping, answering each
mark the runner and the grader tasks send with the sender's PID (from the
kernel), its own clock and the sender's /proc facts. What it saw comes home
in the Verdict, with the CPU of every reaped process of the call
(RUSAGE_CHILDREN); the trusted side believes evidence from inside only where
it agrees (``mpgrade/sandbox/witnessed.py``).

When the runner exits or a limit is hit, the supervisor gives the call's
processes a moment to finish on their own, then SIGTERM, a short grace
period (so multiprocessing's resource tracker can unlink what it tracks),
then SIGSTOP + SIGKILL sweeps until no descendant is left. Then it removes
what the call left in ``/dev/shm`` (SharedMemory blocks and named
semaphores created during the call that no live process has open), and only
then prints one JSON line (its ``Verdict`` on the run) and exits.

It runs past 300 lines on purpose: it is one process's main loop (start, watch, stop,
sweep, verdict), read top to bottom.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time

proctree = protocol = cgroups_ = witness_ = written_ = warmstart = waits_ = None  # the runtime copy's modules, imported in main()
WATCH_S = 0.05
"""The watchdog's period: how often the call's processes are counted (and the witness sees them)."""


def _import_runtime(runtime_parent: str) -> None:
    """``proctree``, ``cgroups``, ``protocol``, ``witness`` and ``written`` from the private runtime copy: nothing
    else of the engine is imported here."""
    global proctree, protocol, cgroups_, witness_, written_, warmstart, waits_
    if proctree is not None:  # already imported: a supervisor forked from the template (``template.py``)
        return
    sys.path.insert(0, runtime_parent)
    from mpgrade_sandboxed import cgroups as cgroups_, proctree, protocol, warmstart, witness as witness_
    from mpgrade_sandboxed import waits as waits_, written as written_


def _witness(path: str, max_processes: int, private_shm: bool = False):
    """The call's witness, listening at ``path``; None where it cannot (no AF_UNIX, a path too long)."""
    if not path or not hasattr(socket, "AF_UNIX"):
        return None
    try:
        return witness_.Witness(path, proctree, max_connections=4 * max_processes + 16, private_shm=private_shm)
    except OSError:
        return None


def _tree_cpu() -> float | None:
    try:
        import resource

        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return round(usage.ru_utime + usage.ru_stime, 3)
    except (ImportError, OSError):
        return None


def _limits(limits: dict[str, int], cgroups: list[str]):
    """What a fresh runner's child does before exec: rlimits, then into the call's cgroup(s) (as a warm runner
    does itself, ``warmstart.apply_limits``)."""

    def apply() -> None:
        warmstart.apply_limits(limits, cgroups)

    return apply


class ForkedRunner:
    """The warm runner (``mpgrade_sandboxed/warmstart.py``), started: what the supervisor needs of a ``Popen``
    (``pid``, ``poll``). Only outside a namespace sandbox (``runner_request``).

    A fresh runner spent ~70 ms of every call starting an interpreter and importing the runtime (of a trivial
    call's ~90-130 ms); the warm one was forked, before this supervisor held anything of its call, from the
    template that had imported the runtime once.
    """

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:  # reaped by a sweep meanwhile: as Popen has it
                self.returncode = 0
            else:
                if pid == self.pid:
                    self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode


def _waits(config) -> list[dict]:
    """Before a hung call is stopped: what each of its live processes waits for (the kernel's word), and its Python
    stack written into the call's folder (``waits.dump_stacks``)."""
    if not waits_.supported():
        return []
    pids = proctree.descendants()
    found = [w.to_plain() for w in (waits_.describe(pid) for pid in pids) if w is not None]
    asked = set(waits_.dump_stacks([w["pid"] for w in found], config.stacks_dir)) if config.stacks_dir else set()
    for wait in found:
        wait["asked"] = wait["pid"] in asked
    return found[:50]


def _sizes(config) -> dict[str, int]:
    sizes = {}
    for name in ("stdout", "stderr"):
        try:
            sizes[name] = os.path.getsize(getattr(config, name))
        except OSError:
            pass
    return sizes


SHM = "/dev/shm"


def _shm_dir(config, witness) -> str:
    """The call's /dev/shm as seen from here: inside bubblewrap, its own tmpfs through the runner's root."""
    if config.private_shm:
        root = witness._shm_root() if witness is not None else ""
        return f"{root}/dev/shm" if root else ""
    return SHM


def shm_entries() -> set[str]:
    try:
        return set(os.listdir(SHM))
    except OSError:
        return set()


def sweep_shm(before: set[str]) -> list[str]:
    """Remove what appeared in /dev/shm during the call and nobody has open any more (a block this call made
    and dropped between two looks cannot be told from a neighbour's leak: both are garbage now)."""
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


def main(runtime_parent: str, config_path: str, waiting=None) -> int:
    """Run the call ``config_path`` describes (in a fresh interpreter, or forked from the template, which forked
    ``waiting``, the warm runner, at this supervisor's first step)."""
    _import_runtime(runtime_parent)
    with open(config_path, encoding="utf-8") as handle:
        config = protocol.SupervisorConfig.from_plain(json.load(handle))
    subreaper = proctree.prctl(proctree.PR_SET_CHILD_SUBREAPER, 1)
    # If the grading process dies, take the call down with us.
    proctree.prctl(proctree.PR_SET_PDEATHSIG, signal.SIGTERM)
    stopping = {"now": False}

    def on_term(signum, frame):  # noqa: ARG001
        stopping["now"] = True

    signal.signal(signal.SIGTERM, on_term)
    max_processes = config.max_processes
    max_memory = config.max_memory_mb * 1024 * 1024
    max_written = config.max_written_mb * 1024 * 1024
    # The cgroup counts threads too (a Pool's parent has several): it is the kernel's backstop
    # against a fork bomb outrunning the watchdog, set well above the watchdog's process count.
    cgroup_mode, cgroups = (cgroups_.make_cgroups(4 * max_processes, max_memory) if config.cgroups else (None, []))
    if config.cpus and hasattr(os, "sched_setaffinity"):
        # A speedup measurement's own CPUs, or the ones no measurement holds: the runner and every
        # process it starts inherit them.
        os.sched_setaffinity(0, config.cpus)
    shm_before = shm_entries()
    witness = _witness(config.witness_path, max_processes, config.private_shm)
    # Inside bubblewrap the call's /dev/shm is its own tmpfs: all of it is the call's.
    meter = written_.WriteMeter(config.call_dir, set() if config.private_shm else shm_before, proctree.holding)
    started = time.monotonic()
    if config.runner_request and waiting is not None:
        runner = ForkedRunner(waiting.start(warmstart.RunnerStart(
            request_path=config.runner_request, runtime_parent=config.runtime_parent, cwd=config.cwd,
            env=config.env, stdout=config.stdout, stderr=config.stderr, rlimits=config.rlimits, cgroups=cgroups,
            cpus=config.cpus)))
    else:
        if waiting is not None:
            waiting.discard()
        with open(config.stdout, "wb") as out, open(config.stderr, "wb") as err:
            runner = subprocess.Popen(
                config.argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                cwd=config.cwd, env=config.env, pass_fds=(config.result_fd,),
                start_new_session=True, close_fds=True,
                preexec_fn=_limits(config.rlimits, cgroups),
            )
    os.close(config.result_fd)
    deadline = started + config.timeout_s
    timed_out, limit, exitcode, deadlock = False, None, None, False
    deadlock_watch = (waits_.DeadlockWatch(config.deadlock_s) if config.deadlock_s > 0 and waits_.supported()
                      else None)
    peak_processes, peak_memory, next_watch = 0, 0, 0.0
    while True:
        exitcode = runner.poll()
        if exitcode is not None:
            break
        now = time.monotonic()
        if stopping["now"] or now >= deadline:
            timed_out = not stopping["now"]
            break
        if now >= next_watch:  # the watchdog
            next_watch = now + WATCH_S
            pids = proctree.descendants()
            if witness is not None:
                witness.see(pids)
            memory = proctree.resident_bytes(pids)
            peak_processes, peak_memory = max(peak_processes, len(pids)), max(peak_memory, memory)
            if len(pids) > max_processes:
                limit = "processes"
            elif memory > max_memory:
                limit = "memory"
            elif config.call_dir and meter.written(_shm_dir(config, witness), pids, max_written) > max_written:
                limit = "written"
            else:
                limit = cgroups_.cgroup_limit_hit(cgroups)
            if limit:
                break
            if deadlock_watch is not None:
                if witness is not None:  # a Manager's server wakes every second to see whether to stop: idle
                    deadlock_watch.exempt = witness.pids_with_role("manager")
                if deadlock_watch.look(pids, now):
                    timed_out = deadlock = True
                    break
        if witness is not None:  # answers marks at once; wakes at least every 10 ms to poll the runner
            witness.serve(0.01)
        else:
            time.sleep(0.01)
    elapsed = time.monotonic() - started
    output_at_stop = _sizes(config) if (timed_out or limit) else {}
    waits = _waits(config) if timed_out else []
    if witness is not None:
        if not witness.call_ended:  # its end mark took a last look at the call's processes; otherwise look now
            witness.see(proctree.descendants(zombies=True))
        witness.close()  # marks stop being answered, so nothing left blocks on the witness while it may end
    killed = proctree.kill_descendants(settle_s=0.0 if (timed_out or limit) else config.settle_s,
                                       grace_s=config.grace_s)
    if exitcode is None:
        exitcode = runner.poll()
    proctree.reap_children()
    left = proctree.descendants()
    limit = limit or cgroups_.cgroup_limit_hit(cgroups)
    cgroups_.remove_cgroups(cgroups)
    verdict = protocol.Verdict(
        exitcode=exitcode, timed_out=timed_out, limit=limit, interrupted=stopping["now"],
        elapsed_s=round(elapsed, 4), killed=[k for k in killed if k["pid"] != runner.pid], left_alive=left,
        subreaper=subreaper, cgroup=cgroup_mode, peak_processes=max(peak_processes, len(killed)),
        peak_memory_mb=round(peak_memory / 2**20), peak_written_mb=-(-meter.peak // 2**20),  # rounded up: over the limit reads so
        limits={"max_processes": max_processes, "max_memory_mb": max_memory // 2**20,
                "max_written_mb": config.max_written_mb},
        shm_swept=sweep_shm(shm_before) if not left else [],
        tree_cpu_s=_tree_cpu(), deadlock=deadlock, waits=waits,
        output_at_stop=output_at_stop, **(witness.report() if witness is not None else {}),
    )
    sys.stdout.write(verdict.to_line())
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
