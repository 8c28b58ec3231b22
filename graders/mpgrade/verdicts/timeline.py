"""Who ran what, and when: one call's processes and task runs as a picture (trusted side).

The witness records, from outside the student's processes, when each process
it saw was alive and when each grader task ran in which process. This module
turns one call's record into a timeline (plain data, for report v1's
``details.timeline``; :mod:`mpgrade.reporters.timeline` draws it) and says
in one sentence what the picture shows when that is one of the
common mistakes: runs that never overlapped (processes joined inside the
start loop), one worker doing nearly all the work, nothing running until
another process had ended (consumers idle until the producer finished).
"""
from __future__ import annotations

from typing import Any

from mpgrade.sandbox.call import CallResult

MAX_RUNS = 200
"""Task runs kept in a timeline (the earliest); a check's calls have at most a few dozen."""


def _short(value: Any, width: int = 24) -> str:
    text = repr(value) if not isinstance(value, str) else value
    return text if len(text) <= width else text[: width - 3] + "..."


def build(result: CallResult) -> dict | None:
    """The timeline of one call as plain data, times in seconds from the first thing seen; None without task runs.

    ``lanes``: the caller first, then each process in the order it started: ``name``, ``role``, ``pid``,
    ``target``, ``start``/``end`` (alive, as witnessed; None when not seen) and ``runs`` (``task``, ``label``,
    ``start``, ``end``). ``says``: what the picture shows, in one sentence, or "".
    """
    runs = [r for r in result.evidence if isinstance(r, dict) and r.get("start") is not None]
    if not result.witnessed or not runs:
        return None
    runs = sorted(runs, key=lambda r: r["start"])[:MAX_RUNS]
    processes = sorted((p for p in result.processes if p.get("role") not in ("helper",) and p.get("start")),
                       key=lambda p: p["start"])
    t0 = min([r["start"] for r in runs] + [p["start"] for p in processes])
    t1 = max([r.get("end") or r["start"] for r in runs] + [p.get("last_seen") or p["start"] for p in processes])
    t1 = max(t1, t0 + 1e-3)

    def at(moment: float | None) -> float | None:
        return None if moment is None else round(moment - t0, 4)

    lanes: list[dict] = [{"name": "caller", "role": "caller", "pid": result.runner_pid, "target": "",
                          "start": 0.0, "end": round(t1 - t0, 4), "runs": []}]
    by_pid = {result.runner_pid: lanes[0]}
    workers = 0
    for process in processes:
        if process.get("pid") in by_pid:
            continue
        role = process.get("role") or "process"
        if role == "manager":
            name = "manager"
        else:
            workers += 1
            name = f"worker {workers}"
        lane = {"name": name, "role": role, "pid": process.get("pid"), "target": process.get("target") or "",
                "start": at(process["start"]), "end": at(process.get("last_seen")), "runs": []}
        lanes.append(lane)
        by_pid[process.get("pid")] = lane
    for run in runs:
        lane = by_pid.get(run.get("pid"))
        if lane is None:  # a process the witness saw run a task but not start: still drawn
            workers += 1
            lane = {"name": f"worker {workers}", "role": "unannounced", "pid": run.get("pid"), "target": "",
                    "start": None, "end": None, "runs": []}
            lanes.append(lane)
            by_pid[run.get("pid")] = lane
        args = run.get("args")
        label = f"{run.get('task')}({', '.join(_short(a, 12) for a in args)})" if isinstance(args, list) \
            else str(run.get("task"))
        lane["runs"].append({"task": run.get("task"), "label": _short(label, 40), "start": at(run["start"]),
                             "end": at(run.get("end"))})
    timeline = {"seconds": round(t1 - t0, 4), "lanes": lanes}
    timeline["says"] = says(timeline)
    return timeline


def max_overlap(timeline: dict) -> int:
    """The most task runs under way at one moment."""
    edges = []
    for lane in timeline["lanes"]:
        for run in lane["runs"]:
            end = run["end"] if run["end"] is not None else timeline["seconds"]
            edges += [(run["start"], 1), (end, -1)]
    now = most = 0
    for _, step in sorted(edges, key=lambda e: (e[0], e[1])):  # an end before a start at the same moment
        now += step
        most = max(most, now)
    return most


SUBSTANTIAL_S = 0.02
"""A task run this long could have overlapped another: shorter ones (a square) say nothing about order."""


def says(timeline: dict) -> str:
    """The common mistake the picture shows, in one sentence of facts; "" when it shows none of them.

    Only runs long enough to overlap count (``SUBSTANTIAL_S``): tiny tasks run one after another, or in one
    worker, in correct code too, and a sentence about them would point a student the wrong way.
    """
    lanes = timeline["lanes"]
    runs = [run for lane in lanes for run in lane["runs"]]
    ended = [run for run in runs if run["end"] is not None]
    substantial = len(ended) == len(runs) and all(run["end"] - run["start"] >= SUBSTANTIAL_S for run in ended)
    workers = [lane for lane in lanes if lane["role"] != "caller"]
    if len(runs) >= 2 and substantial and max_overlap(timeline) == 1:
        where = "in one process" if sum(1 for lane in lanes if lane["runs"]) == 1 else "one after another"
        return f"No two task runs overlapped: all {len(runs)} ran {where}, never at the same time."
    busy_lanes = [lane for lane in workers if lane["runs"]]
    for lane in workers:  # a process that had ended before any process that ran a task was even started
        if lane["runs"] or lane["role"] != "process" or lane["end"] is None or lane["start"] is None \
                or lane["end"] - lane["start"] < SUBSTANTIAL_S or not busy_lanes:
            continue
        if all(other["start"] is not None and other["start"] >= lane["end"] for other in busy_lanes):
            who = f"{lane['name']} ({lane['target']})" if lane["target"] else lane["name"]
            return (f"The processes that ran the tasks were started only after {who} had ended, "
                    f"{lane['end']:.2f} s into the call.")
    busy = sorted((len(lane["runs"]), lane["name"]) for lane in lanes if lane["runs"])
    if len(workers) >= 2 and len(runs) >= 4 and substantial and busy and busy[-1][0] >= 0.75 * len(runs):
        return f"One process did most of the work: {busy[-1][1]} ran {busy[-1][0]} of {len(runs)} tasks."
    return ""
