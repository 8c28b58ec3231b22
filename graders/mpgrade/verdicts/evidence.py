"""Judging the evidence a sandboxed call brings back (trusted side).

Graders share these checks so the same fact always gets the same words:
where the work ran (worker PIDs, child CPU time), which APIs the student
called, and whether the call cleaned up after itself. Every helper first
asks whether that kind of evidence disagreed with what the supervisor
witnessed (``sandbox/witnessed.py``); if it did, the check fails as
tampering, with words that say so, and never as an ordinary mistake.
"""
from __future__ import annotations

from pathlib import Path

from mpgrade.verdicts.diagnose import child_crash
from mpgrade.outcomes import CheckFailed
from mpgrade.sandbox.call import CallResult


TAMPERED = ("The evidence of how this call ran did not match what the kit observed from outside the "
            "student's processes ({detail}). The kit records itself which processes ran, when, and with how much "
            "CPU; a submission must not write, change or fake that evidence (the evidence folder, the kit's "
            "counters, its clocks).")


def require_untampered(result: CallResult, *kinds: str) -> None:
    """Fail as tampering if the evidence of any of ``kinds`` ("tasks", "cpu", "api_calls", "processes") was forged."""
    __tracebackhide__ = True
    for kind in kinds:
        detail = result.evidence_problems.get(kind)
        if detail:
            raise CheckFailed(TAMPERED.format(detail=detail))


def task_records(result: CallResult, task: str | None = None) -> list[dict]:
    """The grader tasks that ran during the call (task, args, pid, ppid, start, end, cpu_s), as witnessed."""
    __tracebackhide__ = True
    require_untampered(result, "tasks")
    return [dict(r) for r in result.evidence if task is None or r.get("task") == task]


def calls(result: CallResult, api: str, from_student: bool = True) -> int:
    """How often ``api`` (e.g. "Pool.apply_async") was called during the call."""
    __tracebackhide__ = True
    require_untampered(result, "api_calls")
    entry = result.api_calls.get(api) or {}
    return int(entry.get("from_student" if from_student else "calls", 0))


WORKER_ROLES = ("process", "pool", "executor", "unannounced")
"""Processes that do a student's work: their own ``Process`` (or subclass), a Pool's or an executor's worker,
and a multiprocessing child stopped before it could say which (a Pool's worker terminated before it ran)."""


def started_processes(result: CallResult, *roles: str) -> list[dict]:
    """The processes the call started with one of ``roles`` (default: workers, see ``WORKER_ROLES``), as the
    witness saw them from outside: pid, ppid, role, target, start, last_seen, cpu_s, alive_at_end.

    A Manager's server is role "manager"; multiprocessing's fork server and resource tracker "helper".
    Without a witness (no AF_UNIX socket) the runner's own counts stand in, one entry per process start it
    reported (role "process"; the threat model says so).
    """
    __tracebackhide__ = True
    wanted = roles or WORKER_ROLES
    if result.witnessed:
        return [dict(p) for p in result.processes if p.get("role") in wanted]
    require_untampered(result, "api_calls")
    managers = int((result.api_calls.get("BaseManager.start") or {}).get("calls", 0))
    starts = int((result.api_calls.get("Process.start") or {}).get("calls", 0))
    counted = {"process": max(0, starts - managers), "manager": managers}
    return [{"role": role, "pid": None} for role in wanted for _ in range(counted.get(role, 0))]


def worker_pids(result: CallResult, task: str | None = None) -> set[int]:
    """PIDs of the processes (other than the caller) that ran grader tasks."""
    __tracebackhide__ = True
    return {r["pid"] for r in task_records(result)
            if r.get("pid") != result.runner_pid and (task is None or r.get("task") == task)}


def still_running(result: CallResult) -> list[dict]:
    """Processes the call started that were still alive when the function returned (multiprocessing's own
    helpers left out): the witness's when ``witnessed``, else the runner's report."""
    __tracebackhide__ = True
    if result.witnessed and result.processes_seen is not None:
        return [p for p in result.processes if p.get("alive_at_end") and p.get("role") != "helper"]
    return list(result.live_children)


def require_clean_exit(result: CallResult, what: str) -> None:
    """Fail unless the call left no process running and no shared memory behind."""
    __tracebackhide__ = True
    require_untampered(result, "processes")
    live = still_running(result)
    if live:
        count = len(live)
        raise CheckFailed(
            f"{count} child process{'es were' if count > 1 else ' was'} still running when {what} returned. "
            "join() every Process you start, and use a Pool or executor in a with-block (or close() and "
            "join() it) so its workers are gone before you return.")
    if result.shm_left:
        names = ", ".join(result.shm_left[:3])
        raise CheckFailed(
            f"{what} left {len(result.shm_left)} shared memory block(s) in /dev/shm ({names}). "
            "Call close() on every SharedMemory in every process that opened it, and unlink() it "
            "once, in the process that created it, when no one needs it any more.")


def require_work_in_children(result: CallResult, what: str, min_share: float = 0.5,
                             min_seconds: float = 0.15) -> None:
    """Fail unless most of the CPU time of the call was spent in child processes.

    Threads and work done in the caller show up as the caller's CPU time,
    ``time.sleep`` as almost none at all; real worker processes show up as
    the CPU time of the caller's reaped children.
    """
    __tracebackhide__ = True
    require_untampered(result, "cpu")
    own = float(result.self_cpu_s or 0.0)
    children = float(result.children_cpu_s or 0.0)
    total = own + children
    if children >= min_seconds and children >= min_share * total:
        return
    if own > children:
        where = ("the work ran in the calling process (or in threads): "
                 f"{own:.2f} s of CPU there, {children:.2f} s in child processes")
        fix = "Hand the work to a multiprocessing.Pool (or Process objects) so it runs in other processes."
    else:
        where = f"only {children:.2f} s of CPU time was spent in child processes and {own:.2f} s in the caller"
        fix = ("The work has to be computed by worker processes (no time.sleep stand-ins), and the workers "
               "joined before returning (a with-block on the Pool does that).")
    raise CheckFailed(f"{what}: {where}. {fix}")



def require_no_crash(result: CallResult, student_file: Path, what: str, fix: str = "") -> None:
    """Fail if a child process that ``what`` joined ended with an error: its exception, the student's line,
    the exit code (see :func:`mpgrade.verdicts.diagnose.child_crash`), then ``fix`` when given."""
    __tracebackhide__ = True
    require_untampered(result, "processes")
    crash = child_crash(result, student_file)
    if crash:
        raise CheckFailed(f"{what} returned, but one of its processes did not end cleanly.\n{crash}"
                          + (f"\n{fix}" if fix else ""))
