"""Reconciling evidence from inside with the witness (mpgrade/sandbox/witnessed.py), and the evidence helpers
that fail a check resting on forged evidence as tampering (mpgrade/verdicts/evidence.py)."""
from __future__ import annotations

import pytest

from mpgrade import CheckFailed, calls, require_clean_exit, require_work_in_children, task_records
from mpgrade.sandbox.call import CallResult
from mpgrade.sandbox.witnessed import reconcile
from mpgrade_sandboxed.protocol import Phase, Result, Status, Verdict

T0 = 1_700_000_000.0
SEEN = [{"task": "exit_after", "args": [3, 0.0], "pid": 101, "ppid": 100, "start": T0 + 0.10, "end": T0 + 0.11,
         "cpu_s": 0.01},
        {"task": "exit_after", "args": [4, 0.0], "pid": 102, "ppid": 100, "start": T0 + 0.12, "end": T0 + 0.13,
         "cpu_s": 0.0}]
CALL = {"begin": T0, "end": T0 + 1, "self_cpu_s": 0.2, "children_cpu_s": 1.0, "processes_started": 2, "live": []}


def _reported(seen: dict, **changes) -> dict:
    """The file record an honest task leaves for the witnessed run ``seen`` (same PID view)."""
    record = {**seen, "start": seen["start"] - 0.001, "end": seen["end"] + 0.001, "cpu_s": seen["cpu_s"] + 0.001}
    record.update(changes)
    return record


def _reconciled(evidence=(), call=CALL, runner_pid=100, reported_pid=100, tree_cpu_s=5.0, **final) -> CallResult:
    verdict = Verdict(runner_pid=runner_pid, witnessed_tasks=SEEN, witnessed_call=call, tree_cpu_s=tree_cpu_s)
    fields = {"children_cpu_s": 0.9, "self_cpu_s": 0.2, "api_calls": {}, **final}
    result_message = Result(Status.RETURNED, value=None, evidence=list(evidence), **fields)
    result = CallResult(status=Status.RETURNED, phase=Phase.DONE, runner_pid=reported_pid)
    reconcile(result, verdict, result_message, reported_pid)
    return result


def test_honest_evidence_agrees_and_the_witnessed_records_are_judged():
    result = _reconciled([_reported(seen) for seen in SEEN])
    assert result.witnessed and result.evidence_problems == {}
    assert task_records(result) == SEEN


def test_under_bubblewrap_pids_differ_and_the_witness_pids_count():
    result = _reconciled([_reported(seen, pid=seen["pid"] - 90, ppid=1) for seen in SEEN], reported_pid=2)
    assert result.evidence_problems == {} and result.runner_pid == 100


@pytest.mark.parametrize("forged", [
    {"pid": 4242},  # an invented PID
    {"start": T0 + 0.5},  # a start after the witnessed one
    {"start": T0 - 8.0},  # an interval made much longer
    {"end": T0 + 0.09},  # an end before the witnessed one (overlaps made up by shrinking)
    {"cpu_s": 2.0},  # more CPU than the kernel counted
    {"args": [9, 0.0]},  # a run that never happened
])
def test_a_task_record_the_witness_cannot_account_for_is_tampering(forged):
    result = _reconciled([_reported(SEEN[0], **forged), _reported(SEEN[1])])
    assert "tasks" in result.evidence_problems
    with pytest.raises(CheckFailed, match="did not match what the kit observed"):
        task_records(result)


def test_inflated_child_cpu_or_deflated_own_cpu_is_tampering():
    for final in ({"children_cpu_s": 3.0}, {"self_cpu_s": 0.0, "children_cpu_s": 0.5}):
        result = _reconciled(**final)
        assert "cpu" in result.evidence_problems
        with pytest.raises(CheckFailed, match="did not match what the kit observed"):
            require_work_in_children(result, "f")
    assert _reconciled(children_cpu_s=1.1).evidence_problems == {}  # within clock ticks and bookkeeping


def test_more_processes_started_than_the_witness_saw_is_tampering():
    result = _reconciled(api_calls={"Process.start": {"calls": 3, "from_student": 3}})
    assert "did not match" in pytest.raises(CheckFailed, calls, result, "Pipe").value.feedback
    assert _reconciled(api_calls={"Process.start": {"calls": 2, "from_student": 2}}).evidence_problems == {}


def test_processes_left_running_that_the_call_did_not_report_are_tampering():
    live = [{"pid": 7, "cmdline": "python -c from multiprocessing.resource_tracker import main"},
            {"pid": 8, "cmdline": "python worker"}]
    result = _reconciled(call={**CALL, "live": live}, live_children=[])
    with pytest.raises(CheckFailed, match="did not match what the kit observed"):
        require_clean_exit(result, "f")
    assert _reconciled(call={**CALL, "live": live[:1]}).evidence_problems == {}  # multiprocessing's own helper


def test_a_fork_servers_worker_left_running_is_not_a_helper():
    server = "python -c from multiprocessing.forkserver import main; main(8, 9)"
    live = [{"pid": 7, "cmdline": server, "parent_cmdline": "python -c runner"},
            {"pid": 8, "cmdline": server, "parent_cmdline": server}]
    assert _reconciled(call={**CALL, "live": live[:1]}).evidence_problems == {}  # the server itself
    result = _reconciled(call={**CALL, "live": live}, live_children=[])
    with pytest.raises(CheckFailed, match="did not match what the kit observed"):
        require_clean_exit(result, "f")


def test_a_call_the_witness_never_saw_begin_is_tampering():
    assert set(_reconciled(call=None).evidence_problems) == {"cpu", "api_calls", "processes"}


def test_without_a_witness_the_reported_evidence_is_used():
    result = _reconciled([{"task": "square", "pid": 5}], runner_pid=None)
    assert not result.witnessed and result.evidence == result.reported_evidence == [{"task": "square", "pid": 5}]


def test_interchangeable_runs_are_matched_so_every_honest_record_finds_its_twin():
    """Five exit_after(0): the first record in the folder may also fit the second run; it must not take it."""
    runs = [{"task": "exit_after", "args": [0, 0.0], "pid": 200 + i, "ppid": 100, "start": T0 + 0.1 * i,
             "end": T0 + 0.1 * i + 0.3, "cpu_s": 0.0} for i in range(5)]
    records = [_reported(run, pid=run["pid"] - 190, ppid=1) for run in reversed(runs)]
    verdict = Verdict(runner_pid=100, witnessed_tasks=runs, witnessed_call=CALL, tree_cpu_s=5.0)
    result = CallResult(status=Status.RETURNED, phase=Phase.DONE, runner_pid=2)
    reconcile(result, verdict, Result(Status.RETURNED, evidence=records, children_cpu_s=0.9, self_cpu_s=0.2), 2)
    assert result.evidence_problems == {}


def test_a_fork_servers_reaped_cpu_missing_from_the_tree_is_not_tampering():
    """Inside bubblewrap the PID namespace's teardown can drop what a fork server reaped from the tree's
    RUSAGE_CHILDREN; the witness read it from /proc, so the whole-tree check allows for that part only."""
    served = {**CALL, "children_cpu_s": 0.65, "served_cpu_s": 0.6}
    assert _reconciled(call=served, tree_cpu_s=0.31, children_cpu_s=0.63).evidence_problems == {}
    unserved = {**CALL, "children_cpu_s": 0.65}
    assert "cpu" in _reconciled(call=unserved, tree_cpu_s=0.31, children_cpu_s=0.63).evidence_problems
    # ...and a claim past what the witness saw is refused whatever the fork server reaped
    assert "cpu" in _reconciled(call=served, tree_cpu_s=0.31, children_cpu_s=2.0).evidence_problems
