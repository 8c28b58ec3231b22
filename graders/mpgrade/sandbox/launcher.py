"""Run one call into student code in a sandbox and bring back plain data (grading process).

This runs in the grading process. It never imports student code: it writes
the runner's request and the supervisor's config, starts the supervisor
(forked from this process's template, ``template.py``, or else a fresh
interpreter) that starts the runner, and reads two pipes until the
supervisor exits, which it does only once every process of the call is dead
(the messages and who sends them: ``mpgrade_sandboxed/protocol.py``):

    launcher (grading process)                   sandbox
    -------------------------                    -------
    request.json  ------------------------------> runner reads it (RunRequest)
    supervisor.json  ---------------------------> supervisor reads it (SupervisorConfig)
    result pipe (read end)  <-------------------- runner: Started, Imported, Result (frames)
    supervisor stdout  <------------------------- supervisor: one Verdict
    stdout.txt / stderr.txt  <------------------- student output (files, capped on read)

The parts, each in its own module: ``runtime`` (the private runtime copy,
the call's environment, its limits), ``call`` (CallRequest, CallResult),
``eventloop`` (reading the pipes; the backstop deadline for a supervisor
that itself misbehaves), ``classify`` (how the call ended) and
``mpgrade_sandboxed.proctree`` (the sweep after a killed supervisor).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from mpgrade_sandboxed import plaindata, proctree
from mpgrade_sandboxed.protocol import RunRequest, SupervisorConfig
from mpgrade_sandboxed.runner import BOOT

from mpgrade.sandbox import cpulock
from mpgrade.sandbox import confinement, namespaces, seatbelt, template
from mpgrade.sandbox.call import CallRequest, CallResult
from mpgrade.sandbox.classify import classify
from mpgrade.sandbox.eventloop import collect
from mpgrade.sandbox.runtime import Limits, runtime_parent, sandbox_env
from mpgrade.sandbox.stepaside import IdleWatch

__all__ = ["CallRequest", "CallResult", "Limits", "run_call"]

BACKSTOP_S = 10.0
GRACE_S = 1.0
SUPERVISOR = Path(__file__).with_name("supervisor.py")


def run_call(request: CallRequest) -> CallResult:
    """Run ``request`` in a fresh sandbox; return once nothing of it is left running.

    Runs on the CPUs ``cpulock`` allows: never on those of another process's
    speedup measurement, and only on its own measurement's CPUs inside one.
    """
    workdir = Path(tempfile.mkdtemp(prefix="mpgrade-call-"))
    try:
        with cpulock.shared() as cpus:
            return _run_in(workdir, request, cpus)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _run_in(workdir: Path, request: CallRequest, cpus: tuple[int, ...] | None = None) -> CallResult:
    scratch = workdir / "cwd"
    evidence = workdir / "evidence"
    scratch.mkdir()
    evidence.mkdir()
    (evidence / "stacks").mkdir()
    read_fd, write_fd = os.pipe()
    runner_request = RunRequest(
        submission=str(Path(request.submission).resolve()), module=request.module, kind=request.kind,
        target=request.target, args=plaindata.to_plain(list(request.args)),
        kwargs=plaindata.to_plain(dict(request.kwargs)), start_method=request.start_method, races=request.races,
        evidence_dir=str(evidence), result_fd=write_fd, witness_path=str(workdir / "witness.sock"),
        confine=confinement.rules(workdir, Path(request.submission), runtime_parent())
        if confinement.wanted(request.landlock) and not confinement.seatbelt_wanted(request.landlock) else {},
    )
    (workdir / "request.json").write_text(json.dumps(runner_request.to_plain()), encoding="utf-8")
    mark = uuid.uuid4().hex
    argv = [sys.executable, "-I", "-B", "-c", BOOT, str(runtime_parent()), str(workdir / "request.json")]
    # Outside a namespace the runner may be forked warm from a template's supervisor (template.py); inside
    # one it must be bubblewrap's own fresh child.
    runner_request_path = str(workdir / "request.json")
    private_shm = namespaces.wanted(request.namespaces)
    if private_shm:
        argv = namespaces.command(argv, workdir, Path(request.submission), [runtime_parent()])
        runner_request_path = ""
    elif confinement.seatbelt_wanted(request.landlock):  # macOS: the profile binds a fresh runner, not a fork
        rules = confinement.rules(workdir, Path(request.submission), runtime_parent())
        argv = seatbelt.command(argv, rules["read"], rules["write"])
        runner_request_path = ""
    config = SupervisorConfig(
        argv=argv, cwd=str(scratch), env=sandbox_env(scratch, mark, cpus), stdout=str(workdir / "stdout.txt"),
        stderr=str(workdir / "stderr.txt"), timeout_s=request.timeout_s, grace_s=GRACE_S, result_fd=write_fd,
        runtime_parent=str(runtime_parent()), rlimits=request.limits.rlimits(request.timeout_s),
        max_processes=request.limits.max_processes, max_memory_mb=request.limits.max_memory_mb,
        max_written_mb=request.limits.max_written_mb, call_dir=str(workdir), private_shm=private_shm,
        cpus=list(cpus or ()), witness_path=runner_request.witness_path, runner_request=runner_request_path,
        stacks_dir=str(evidence / "stacks"), deadlock_s=request.deadlock_s,
    )
    (workdir / "supervisor.json").write_text(json.dumps(config.to_plain()), encoding="utf-8")
    with open(workdir / "supervisor.err", "wb") as supervisor_err:
        supervisor = _start_supervisor(workdir / "supervisor.json", write_fd, supervisor_err.fileno(),
                                       warm_runner=bool(runner_request_path))
    os.close(write_fd)
    received = collect(supervisor, read_fd, backstop=time.monotonic() + request.timeout_s + GRACE_S + BACKSTOP_S,
                       tick=IdleWatch(supervisor.pid) if cpulock.holding() else None)
    if not received.verdict_bytes.strip() and (not isinstance(supervisor, template.SupervisorProcess)
                                               or supervisor.returncode is None):  # (None: the template is gone)
        # A fresh supervisor killed before its verdict (by student code?): its call may live on. (A template's
        # supervisor's orphans were stopped by the template, their subreaper, before it reported it gone.)
        proctree.sweep_call(mark, supervisor.pid)
    return classify(workdir, received, supervisor.returncode)


def _start_supervisor(config_path: Path, write_fd: int, stderr_fd: int,
                      warm_runner: bool = False) -> subprocess.Popen | template.SupervisorProcess:
    """Forked from this process's template where one runs (past interpreter start-up and imports), else a fresh
    interpreter; either way in its own session, with the result pipe's write end as ``write_fd``."""
    if template.usable() and write_fd > 2:
        forked = template.shared().start_supervisor(str(runtime_parent()), str(config_path), write_fd, stderr_fd,
                                                    warm_runner)
        if forked is not None:
            return forked
    return subprocess.Popen(
        [sys.executable, "-I", str(SUPERVISOR), str(runtime_parent()), str(config_path)],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=stderr_fd, pass_fds=(write_fd,),
        start_new_session=True, close_fds=True,
    )
