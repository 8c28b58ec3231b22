"""Evidence from inside counts only where the witness agrees (grading process).

Runs in the grading process, in ``classify`` after the supervisor has exited.
The runner and the grader tasks report evidence from inside the student's
processes (task records as files, CPU figures, API-call counts, processes
left running); student code runs in those processes and can write any of
it. The supervisor's witness (``mpgrade_sandboxed/witness.py``) saw the
call's processes from outside. Here:

- the witnessed task records replace the reported ones as ``CallResult.evidence``
  (and the witness's runner PID replaces the runner's own: with bubblewrap
  the two live in different PID namespaces, and every comparison uses the witness's);
- every reported claim is compared with the witness; a disagreement is
  recorded in ``CallResult.evidence_problems`` under the kind of evidence it
  concerns ("tasks", "cpu", "api_calls", "processes"), and the evidence
  helpers (``mpgrade/verdicts/evidence.py``) then fail any check resting on that
  kind as tampering, never as an ordinary mistake.

Every comparison leans towards the student: a claim is refused only when the
kernel's facts cannot be reconciled with it (a margin covers clock ticks and
the runner's own bookkeeping between its measurement and the witness's).
Without a witness (no hello from the runner: no AF_UNIX socket) the
reported evidence is used as before and ``CallResult.witnessed`` is False.
"""
from __future__ import annotations

import json
from typing import Any

from mpgrade_sandboxed.protocol import Result, Status, Verdict
from mpgrade_sandboxed.proctree import is_helper
from mpgrade_sandboxed.witness import RUNNER_FORGERIES

from mpgrade.sandbox.call import CallResult

EARLY_S = 0.01
"""A reported task start may precede the witnessed one (taken just before the mark) by this much at most...
(and a reported end follow the witnessed one), but not the other way round beyond this."""
LATE_S = 5.0
"""...and differ from the witnessed time by at most this. The supervisor answers within milliseconds, but on an
overloaded machine (a grading run at nice 19 next to busy neighbours) it may wait for the CPU; being generous
here costs nothing, since the witnessed times, not these, are what the graders judge."""
MATCH_LIMIT = 200
"""Past this many interchangeable runs a record is only counted, not matched (keeps the matching small)."""
CALLED = (Status.RETURNED, Status.RAISED, Status.UNENCODABLE)
"""Results the runner sends after the student function ran (and the witness saw it begin and end)."""


def _margin(seconds: float, base: float = 0.05) -> float:
    """How far a CPU figure from inside may stray from the kernel's: clock ticks, the runner's own bookkeeping."""
    return base + 0.1 * max(seconds, 0.0)


def reconcile(result: CallResult, verdict: Verdict, final: Result | None, reported_pid: int | None) -> None:
    """Judge ``final``'s evidence against ``verdict``'s witness; set ``result``'s evidence and problems."""
    result.reported_evidence = list(final.evidence) if final is not None else []
    if verdict.runner_pid is None:
        result.evidence = list(result.reported_evidence)
        return
    result.witnessed = True
    result.runner_pid = verdict.runner_pid
    result.evidence = [dict(record) for record in verdict.witnessed_tasks]
    if verdict.witnessed_call is not None:
        call = verdict.witnessed_call
        result.processes_seen = int(call.get("processes_started", 0))
        result.processes = [dict(p) for p in call.get("started") or []]
        if call.get("shm_witnessed"):  # what the kernel shows, not what the runner's counters say
            # Still in /dev/shm and held by no other call: the call's own if the witness saw its processes hold
            # it, or if the runner says the caller created it (only ever adds a block that really is there).
            new = set(call.get("shm_new") or [])
            reported = set(final.shm_left or []) if final is not None else set()
            # The runner's own list stands too (a block made and dropped between two looks; inside bubblewrap
            # the end mark's listing was seen to miss one, 2 runs in 3): it only lists the caller's own blocks.
            result.shm_left = sorted(set(call.get("shm_left") or []) | (new & reported) | reported)
            result.shm_mapped = list(call.get("shm_mapped") or [])
    if final is None:
        return
    problems: dict[str, str] = {}
    # Only student code sends the runner's marks a second time or from another process (a refused task mark
    # just leaves its run unwitnessed: the check then fails, as for a run that never happened).
    refused = [str(p.get("text")) for p in verdict.witness_problems or []
               if isinstance(p, dict) and p.get("code") in RUNNER_FORGERIES]
    if refused:
        problems["cpu"] = problems["api_calls"] = problems["processes"] = refused[0]
    tasks = _unmatched_task(final.evidence, verdict.witnessed_tasks, reported_pid == verdict.runner_pid)
    if tasks:
        problems.setdefault("tasks", tasks)
    if final.status in CALLED and final.children_cpu_s is not None:
        call = verdict.witnessed_call
        if call is None:
            for kind in ("cpu", "api_calls", "processes"):
                problems.setdefault(kind, "the kit did not see the function begin and end")
        else:
            for kind, text in (("cpu", _cpu(final, call, verdict.tree_cpu_s)), ("api_calls", _api(final, call)),
                               ("processes", _live(final, call))):
                if text:
                    problems.setdefault(kind, text)
    result.evidence_problems = problems


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _agrees(record: dict, seen: dict, same_view: bool) -> bool:
    """Whether a reported task record could be the witnessed run ``seen`` (in the same PID view or not)."""
    if record.get("task") != seen["task"] or record.get("args") != seen["args"]:
        return False
    if same_view and (record.get("pid") != seen["pid"] or record.get("ppid") != seen["ppid"]):
        return False
    start, end, cpu = _number(record.get("start")), _number(record.get("end")), _number(record.get("cpu_s"))
    if start is None or end is None or cpu is None:
        return False
    return (seen["start"] - LATE_S <= start <= seen["start"] + EARLY_S
            and seen["end"] - EARLY_S <= end <= seen["end"] + LATE_S
            and cpu <= seen["cpu_s"] + _margin(seen["cpu_s"]))


def _unmatched_task(reported: list, witnessed: list, same_view: bool) -> str | None:
    """What is wrong with the first reported task record that no witnessed run accounts for, if any.

    Each record needs a witnessed run of its own. Runs with the same task and arguments (five ``exit_after(0)``)
    are interchangeable up to their times, so first come, first served could hand a record's twin to another
    record; a matching (augmenting paths, per task and arguments) finds a twin for every record if there is one.
    """
    groups: dict[str, list[int]] = {}
    for index, seen in enumerate(witnessed):
        groups.setdefault(_key(seen), []).append(index)
    owner: dict[int, int] = {}  # witnessed run -> the record it accounts for
    order = sorted(range(len(reported)), key=lambda r: _number(reported[r].get("start")) or 0.0)
    candidates = {r: [j for j in groups.get(_key(reported[r]), []) if _agrees(reported[r], witnessed[j], same_view)]
                  for r in order}

    def take(record: int, visited: set[int]) -> bool:
        for run in candidates[record]:
            if run not in visited:
                visited.add(run)
                if run not in owner or take(owner[run], visited):
                    owner[run] = record
                    return True
        return False

    for record in order:
        if len(candidates[record]) > MATCH_LIMIT:  # a huge group: enough runs is all that is checked
            group = groups.get(_key(reported[record]), [])
            if sum(1 for r in order if _key(reported[r]) == _key(reported[record])) <= len(group):
                continue
        elif take(record, set()):
            continue
        bad = reported[record]
        runs = sum(1 for seen in witnessed if seen["task"] == bad.get("task"))
        return (f"a record says {str(bad.get('task'))[:40]} ran in process {str(bad.get('pid'))[:20]}; "
                f"the kit saw {runs} run(s) of it, none in that process over that time with that CPU")
    return None


def _key(record: dict) -> str:
    try:
        return json.dumps([record.get("task"), record.get("args")], sort_keys=True)
    except (TypeError, ValueError):
        return repr(record.get("task"))


def _cpu(final: Result, call: dict, tree_cpu_s: float | None) -> str | None:
    children, own = float(final.children_cpu_s or 0.0), _number(final.self_cpu_s)
    seen_children, seen_own = float(call["children_cpu_s"]), float(call["self_cpu_s"])
    if children > seen_children + _margin(seen_children):
        return (f"{children:.2f} s of CPU reported in child processes, the kernel counted "
                f"{seen_children:.2f} s in the processes the caller reaped")
    served = float(call.get("served_cpu_s") or 0.0)  # seen in /proc by the witness, but maybe not in the tree's
    if tree_cpu_s is not None and children > tree_cpu_s + served - seen_own + _margin(tree_cpu_s):
        return f"{children:.2f} s of CPU reported in child processes, all of the call's processes used {tree_cpu_s:.2f} s"
    if own is not None and own < seen_own - _margin(seen_own, base=0.1):
        return f"{own:.2f} s of CPU reported in the calling process, the kernel counted {seen_own:.2f} s"
    return None


def _api(final: Result, call: dict) -> str | None:
    def student(api: str) -> int:
        entry = final.api_calls.get(api)
        value = entry.get("from_student", 0) if isinstance(entry, dict) else 0
        return value if isinstance(value, int) else 0

    claimed = student("Process.start")
    # A pool, an executor given work or a manager starts at least one process.
    claimed += sum(1 for api in ("Pool.__init__", "ProcessPoolExecutor.submit", "BaseManager.start")
                   if student(api) >= 1)
    seen = int(call.get("processes_started", 0))
    if claimed > seen:
        return f"the call reported starting at least {claimed} process(es), the kit saw {seen} new process(es)"
    return None


def _live(final: Result, call: dict) -> str | None:
    seen = [p for p in call.get("live") or []
            if not is_helper(str(p.get("cmdline", "")), str(p.get("parent_cmdline", "")))]
    if seen and not final.live_children:
        return f"no process was reported running when the function returned, the kit saw {len(seen)}"
    return None
