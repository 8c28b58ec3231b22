"""The supervisor: starts one runner, enforces its limits, and kills everything it left.

Runs in its own interpreter (``python -I supervisor.py CONFIG``), started by
the launcher in the grading process. It is trusted code and runs no student
code; it imports only the standard library and psutil, and nothing from
mpgrade, so it starts fast and cannot be shadowed.

    grading process (launcher)
        |  config file, result pipe's write end (inherited fd)
        v
    supervisor  -- child subreaper: orphans of the call are re-parented here
        |  new session, rlimits, stdout/stderr -> files, wall-clock deadline
        v
    runner (student code) -> workers -> grandchildren (maybe setsid'd)

When the runner exits or its deadline passes, the supervisor gives the
call's processes a moment to finish on their own, then SIGTERM, a short
grace period (so multiprocessing's resource tracker can unlink what it
tracks), then SIGSTOP + SIGKILL sweeps until no descendant is left. Only then
does it print one JSON line (its verdict on the run) and exit.
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


def _descendants() -> list:
    import psutil

    try:
        return [p for p in psutil.Process().children(recursive=True)]
    except psutil.Error:
        return []


def _reap_zombies() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _signal_all(procs: list, sig: int) -> None:
    for proc in procs:
        try:
            os.kill(proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass


def _alive(procs: list) -> list:
    import psutil

    alive = []
    for proc in procs:
        try:
            if proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE:
                alive.append(proc)
        except psutil.Error:
            pass
    return alive


def kill_tree(settle_s: float, grace_s: float) -> list[dict]:
    """Kill every descendant of this process; return what had to be killed."""
    killed: dict[int, dict] = {}
    deadline = time.monotonic() + settle_s
    while _alive(_descendants()) and time.monotonic() < deadline:
        _reap_zombies()
        time.sleep(0.02)
    procs = _alive(_descendants())
    for proc in procs:
        try:
            killed[proc.pid] = {"pid": proc.pid, "cmdline": " ".join(proc.cmdline())[:200]}
        except Exception:
            killed[proc.pid] = {"pid": proc.pid, "cmdline": "?"}
    if procs:
        _signal_all(procs, signal.SIGTERM)
        deadline = time.monotonic() + grace_s
        while _alive(_descendants()) and time.monotonic() < deadline:
            _reap_zombies()
            time.sleep(0.02)
    # Freeze before killing so a forking process cannot outrun the sweep.
    for _ in range(1000):
        procs = _alive(_descendants())
        if not procs:
            break
        for proc in procs:
            killed.setdefault(proc.pid, {"pid": proc.pid, "cmdline": "?"})
        _signal_all(procs, signal.SIGSTOP)
        frozen = _alive(_descendants())
        _signal_all(frozen, signal.SIGKILL)
        _reap_zombies()
        time.sleep(0.01)
    _reap_zombies()
    return list(killed.values())


def _limits(config: dict):
    limits = config.get("rlimits", {})

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

    return apply


def main(config_path: str) -> int:
    with open(config_path, encoding="utf-8") as handle:
        config = json.load(handle)
    subreaper = _prctl(PR_SET_CHILD_SUBREAPER, 1)
    # If the grading process dies, take the call down with us.
    _prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    stopping = {"now": False}

    def on_term(signum, frame):  # noqa: ARG001
        stopping["now"] = True

    signal.signal(signal.SIGTERM, on_term)
    result_fd = int(config["result_fd"])
    started = time.monotonic()
    with open(config["stdout"], "wb") as out, open(config["stderr"], "wb") as err:
        runner = subprocess.Popen(
            config["argv"], stdin=subprocess.DEVNULL, stdout=out, stderr=err,
            cwd=config["cwd"], env=config["env"], pass_fds=(result_fd,),
            start_new_session=True, preexec_fn=_limits(config), close_fds=True,
        )
    os.close(result_fd)
    deadline = started + float(config["timeout"])
    timed_out = False
    exitcode = None
    while True:
        exitcode = runner.poll()
        if exitcode is not None:
            break
        if stopping["now"] or time.monotonic() >= deadline:
            timed_out = not stopping["now"]
            break
        time.sleep(0.01)
    elapsed = time.monotonic() - started
    killed = kill_tree(settle_s=0.0 if timed_out else float(config.get("settle", 0.3)),
                       grace_s=float(config.get("grace", 1.0)))
    if exitcode is None:
        exitcode = runner.poll()
    left = [p.pid for p in _alive(_descendants())]
    verdict = {
        "exitcode": exitcode,
        "timed_out": timed_out,
        "interrupted": stopping["now"],
        "elapsed_s": round(elapsed, 4),
        "killed": [k for k in killed if k["pid"] != runner.pid],
        "left_alive": left,
        "subreaper": subreaper,
    }
    sys.stdout.write(json.dumps(verdict) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
