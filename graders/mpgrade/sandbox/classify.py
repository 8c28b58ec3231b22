"""How a call ended: from what the sandbox sent to a CallResult with one Status (grading process).

Runs in the grading process after the supervisor has exited (so every
process of the call is dead). Student code runs next to the runner and can
write to the result pipe, so the runner's messages are judged, not trusted:
a limit the supervisor enforced wins over whatever was sent, then anything
the runner did not send (or sent twice) makes the call tampered, then the
runner's Result, and without one the supervisor's verdict says why
(timeout, crash, sandbox error).
"""
from __future__ import annotations

import json
import signal
from pathlib import Path

from mpgrade_sandboxed import plaindata
from mpgrade_sandboxed.protocol import Imported, Phase, Result, Started, Status, Verdict, decode, read_frames

from mpgrade.sandbox.call import CallResult
from mpgrade.sandbox.capture import read_capped
from mpgrade.sandbox.eventloop import Received
from mpgrade.sandbox.stacks import hang_details
from mpgrade.sandbox.witnessed import reconcile


def classify(workdir: Path, received: Received, supervisor_returncode: int | None) -> CallResult:
    """The CallResult of the call whose files are in ``workdir`` and whose pipes brought ``received``."""
    framed = read_frames(bytes(received.result_bytes))
    result = _assemble(workdir, [message for message, _ in framed], bytes(received.verdict_bytes), received.overflow)
    ends = {message.get("event"): end for message, end in framed}
    if Imported.event in ends and Result.event in ends and result.status != Status.TAMPERED:
        began = _arrival(received.arrivals, ends[Imported.event])
        ended = _arrival(received.arrivals, ends[Result.event])
        if began is not None and ended is not None:
            result.outside_seconds = ended - began
    if not received.verdict_bytes.strip() and supervisor_returncode == -signal.SIGKILL and result.runner_pid:
        result.status, result.detail = Status.CRASHED, {"supervisor_killed": True}
    return result


def _arrival(arrivals: list[tuple[int, float]], end: int) -> float | None:
    """When the byte before offset ``end`` reached us (``arrivals``: bytes received so far, monotonic time)."""
    for received, when in arrivals:
        if received >= end:
            return when
    return None


def _assemble(workdir: Path, messages: list[dict], verdict_bytes: bytes, overflow: bool) -> CallResult:
    """The result the messages and the verdict make, before the launcher's own timing and observations."""
    try:
        verdict = Verdict.from_output(verdict_bytes)
    except ValueError:
        err = read_capped(str(workdir / "supervisor.err")).text
        verdict = Verdict(supervisor_error=err[-2000:])
    decoded = [decode(message) for message in messages]
    sent = {type(message): message for message in decoded if message is not None}
    phase = Phase.STARTING
    if Started in sent:
        phase = Phase.IMPORTING
    if Imported in sent:
        phase = Phase.CALLING
    started = sent.get(Started)
    result = CallResult(
        status=Status.SANDBOX_ERROR, phase=phase,
        exitcode=verdict.exitcode, timed_out=bool(verdict.timed_out), limit=verdict.limit,
        supervision=verdict.supervision(), elapsed_s=float(verdict.elapsed_s or 0.0),
        killed=list(verdict.killed or []), left_alive=list(verdict.left_alive or []),
        stdout=read_capped(str(workdir / "stdout.txt"), upto=(verdict.output_at_stop or {}).get("stdout")),
        stderr=read_capped(str(workdir / "stderr.txt"), upto=(verdict.output_at_stop or {}).get("stderr")),
        runner_pid=started.pid if started else None,
    )
    final = sent.get(Result)
    sent_twice = len(sent) < len(decoded) - decoded.count(None)
    if result.limit:  # whatever was sent (forked copies of the runner may send too), the call was stopped
        result.status = Status.LIMIT
        result.detail = {"limit": result.limit, **result.supervision}
    elif sent_twice or None in decoded:
        # The runner sends each message once; anything else was written by student code.
        result.status, result.detail = Status.TAMPERED, {"messages": len(messages)}
    elif final is not None:
        imported = sent.get(Imported)
        result.phase = Phase.DONE
        result.status = final.status
        result.error = final.error
        result.seconds = final.seconds
        result.self_cpu_s = final.self_cpu_s
        result.children_cpu_s = final.children_cpu_s
        result.api_calls = final.api_calls
        result.import_api_calls = final.import_api_calls or (imported.api_calls if imported else {})
        result.shm_left = final.shm_left
        result.evidence = final.evidence
        result.races = final.races
        result.child_failures = final.child_failures
        result.process_starts = final.process_starts
        result.live_children = final.live_children
        if result.status == Status.RETURNED:
            try:
                result.value = plaindata.loads(json.dumps(final.value))
            except ValueError as exc:
                result.status, result.detail = Status.UNENCODABLE, {"reason": str(exc)}
        elif result.status in (Status.MISSING, Status.UNENCODABLE, Status.RUNTIME_ERROR):
            result.detail = final.detail
    elif overflow:
        result.status, result.detail = Status.UNENCODABLE, {"reason": "the sandbox sent more than 16 MB"}
    elif result.timed_out:
        result.status = Status.TIMEOUT
    elif verdict.supervisor_error is not None:
        result.status, result.detail = Status.SANDBOX_ERROR, {"reason": verdict.supervisor_error}
    else:
        result.status = Status.CRASHED
    if final is not None and result.status not in (Status.LIMIT, Status.TAMPERED):
        reconcile(result, verdict, final, started.pid if started else None)
    elif verdict.runner_pid is not None:  # every PID a grader compares is the witness's
        result.runner_pid, result.witnessed = verdict.runner_pid, True
    if result.status == Status.TIMEOUT:  # who waited where, and what the witness saw up to the stop
        result.hang = hang_details(workdir, verdict)
        if result.witnessed and verdict.witnessed_hang:
            result.processes = [dict(p) for p in verdict.witnessed_hang.get("started") or []]
            result.evidence = [dict(record) for record in verdict.witnessed_tasks]
    return result
