"""Race verdicts from the sandbox's shared-object facts and from counts (trusted side).

Three layers, as the sandbox gathers them (see ``mpgrade_sandboxed.lockwatch``):
1. lock discipline: an element written by two or more processes, at least one
   of them without holding a lock (or with the read and the write in
   different holds), is a race, deterministically, however the processes
   happened to be scheduled;
2. noise after reads in child processes, so that such a race loses updates;
3. repeated runs with fresh sizes, whose lost updates are the visible evidence.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mpgrade.verdicts.diagnose import child_crash
from mpgrade.verdicts.evidence import calls, require_untampered
from mpgrade.verdicts.feedback import located, todo_hint, where_text
from mpgrade.outcomes import CheckFailed
from mpgrade.sandbox.call import CallResult

SUBJECT = {"value": "The shared Value is", "array": "Elements of the shared Array are",
           "dict": "Keys of the Manager dict are"}


def unlocked_place(site: dict | None, student_file: Path) -> tuple[str, str]:
    """(``file:line: source`` line, TODO hint) for the student's line that touched a shared object
    without its lock, as the sandbox's lock recorder saw it; ("", "") when it saw no line.

    The one rendering of a recorder site, for race verdicts and lock-discipline checks alike.
    """
    if not site or not site.get("line"):
        return "", ""
    where = located(student_file, int(site["line"]), site.get("source"))
    return f"{where_text(where)}\n", todo_hint(where)


def first_unlocked_place(facts: dict, student_file: Path) -> tuple[str, str]:
    """:func:`unlocked_place` for the first unprotected access a lock-discipline driver saw."""
    return unlocked_place(facts.get("first_unlocked"), student_file)


@dataclass(frozen=True)
class Race:
    """Shared elements that several processes wrote, some without a lock."""

    kind: str
    """value, array or dict."""
    elements: int
    """How many elements (indices, keys) raced."""
    writers: int
    """How many processes wrote the most contended element."""
    split: bool
    """True when a read and its write were not inside one hold of one lock."""
    site: dict
    """The student's file, line and source of an unprotected access."""
    first: str = ""
    """The first raced element: an Array index or a dict key ("" for a Value)."""


def find_races(result: CallResult) -> list[Race]:
    """The races in one call's facts (empty when every shared write was safe)."""
    per_object: dict[str, dict] = {}
    for process in result.races:
        for obj_id, facts in (process.get("objects") or {}).items():
            entry = per_object.setdefault(obj_id, {"kind": facts.get("kind", "value"), "elements": {}, "sites": []})
            for element, flags in (facts.get("elements") or {}).items():
                writers = entry["elements"].setdefault(element, {"writers": set(), "unsafe": set(), "split": False,
                                                                 "key": element})
                if any(flag in flags for flag in "LUS"):
                    writers["writers"].add(process.get("pid"))
                if "U" in flags or "S" in flags:
                    writers["unsafe"].add(process.get("pid"))
                writers["split"] = writers["split"] or "S" in flags
            for key in ("site_S", "site_U"):
                if facts.get(key):
                    entry["sites"].append(facts[key])
    races = []
    for entry in per_object.values():
        raced = [e for e in entry["elements"].values() if len(e["writers"]) >= 2 and e["unsafe"]]
        if raced:
            keys = sorted((str(e["key"]) for e in raced), key=lambda k: (not k.lstrip("-").isdigit(),
                                                                          int(k) if k.lstrip("-").isdigit() else 0, k))
            races.append(Race(kind=entry["kind"], elements=len(raced),
                              writers=max(len(e["writers"]) for e in raced),
                              split=any(e["split"] for e in raced),
                              site=entry["sites"][0] if entry["sites"] else {},
                              first=keys[0] if entry["kind"] != "value" else ""))
    return races


def lost_update(result: CallResult) -> dict | None:
    """One lost update the recorder saw, in order: process A read x, process B read x, A wrote y, B wrote z
    (B's write, from a value read before A's, undoes A's). None when its trace shows none.

    The trace is what the child processes recorded (``lockwatch.traced``): it shapes the words only; the
    verdict rests on the lock facts and the counts.
    """
    events: dict[tuple[str, str], list[tuple[float, int, str, Any, Any]]] = {}
    for process in result.races:
        for obj_id, trace in (process.get("trace") or {}).items():
            for event in trace if isinstance(trace, list) else []:
                if isinstance(event, list) and len(event) == 5 and isinstance(event[0], (int, float)):
                    when, element, op, value, line = event
                    events.setdefault((obj_id, str(element)), []).append((float(when), process.get("pid"), op,
                                                                         value, line))
    kinds = {obj_id: facts.get("kind", "value") for process in result.races
             for obj_id, facts in (process.get("objects") or {}).items()}
    for (obj_id, element), seen in events.items():
        seen.sort(key=lambda e: e[0])
        last_read: dict[Any, int] = {}  # pid -> index of its latest read not yet followed by its write
        for index, (_, pid, op, _, _) in enumerate(seen):
            if op == "read":
                last_read[pid] = index
                continue
            if op != "wrote" or pid not in last_read:
                continue
            mine = last_read.pop(pid)
            for other, other_read in list(last_read.items()):
                if other == pid or other_read < mine:
                    continue
                # other read after my read and before my write; does other write after my write?
                later = next((k for k in range(index + 1, len(seen)) if seen[k][1] == other and seen[k][2] == "wrote"),
                             None)
                if later is None:
                    continue
                steps = [seen[mine], seen[other_read], seen[index], seen[later]]
                return {"kind": kinds.get(obj_id, "value"), "element": element,
                        "steps": [{"process": "A" if step[1] == pid else "B", "pid": step[1], "op": step[2],
                                   "value": step[3], "line": step[4],
                                   "at_ms": round((step[0] - steps[0][0]) * 1000, 2)} for step in steps]}
    return None


def lost_update_text(update: dict, student_file: Path) -> str:
    """The lost update in words and as two rows, one per process, time running to the right."""
    steps = update["steps"]
    a_read, b_read, a_wrote, b_wrote = steps
    what = {"array": f"element {update['element']}", "dict": f"the key {update['element']}"}.get(update["kind"],
                                                                                               "the value")
    lost = "one update lost" if a_wrote["value"] == b_wrote["value"] else "process A's update lost"
    lines = sorted({int(s["line"]) for s in steps if isinstance(s.get("line"), int)})
    where = f" at {student_file.name}:{' and '.join(map(str, lines))}" if lines else ""
    words = (f"What happened, as recorded{where}: process A read {a_read['value']!r} from {what}, process B read "
             f"{b_read['value']!r}, A wrote {a_wrote['value']!r}, B wrote {b_wrote['value']!r}: {lost}, because B "
             "read before A had written.")
    cells = [f"read {s['value']!r}" if s["op"] == "read" else f"wrote {s['value']!r}" for s in steps]
    width = max(len(cell) for cell in cells) + 2
    row_a = f"  process A  {cells[0]:<{width}}{'':<{width}}{cells[2]:<{width}}"
    row_b = f"  process B  {'':<{width}}{cells[1]:<{width}}{'':<{width}}{cells[3]}"
    return f"{words}\n{row_a.rstrip()}\n{row_b.rstrip()}\n  {'time ->':>{11 + 4 * width}}"


@dataclass(frozen=True)
class RaceRun:
    """One graded run: how many updates should have happened, and how many did."""

    expected: int
    observed: int
    result: CallResult


def race_text(race: Race, student_file: Path) -> tuple[str, str]:
    """(the race in words, with the student's line first; the TODO hint)."""
    place, hint = unlocked_place(race.site, student_file)
    how = ("read and written by {n} processes without holding one lock from the read to the write"
           if race.split else "written by {n} processes, not all of them holding a lock")
    which = ""
    if race.first and race.kind == "array":
        which = f" (index {race.first}" + (f" and {race.elements - 1} more)" if race.elements > 1 else ")")
    elif race.first and race.kind == "dict":
        which = f" (the key {race.first!r}" + (f" and {race.elements - 1} more)" if race.elements > 1 else ")")
    subject, verb = SUBJECT.get(race.kind, "A shared object is").rsplit(" ", 1)
    return (f"{place}{subject}{which} {verb} "
            f"{how.format(n=race.writers)} (lost updates possible)."), hint


def judge_races(runs: list[RaceRun], student_file: Path, fix: str) -> None:
    """Fail the check, with file:line and the counts, if any run raced or lost updates.

    The cause named is the most specific the evidence shows: a worker that crashed (its exception and
    line), then a race (the line and which element), then processes not joined before the result was read.
    """
    __tracebackhide__ = True
    races = [race for run in runs for race in find_races(run.result)]
    lossy = [run for run in runs if run.observed != run.expected]
    if not races and not lossy:
        return
    total_expected = sum(run.expected for run in runs)
    lost = sum(max(0, run.expected - run.observed) for run in runs)
    evidence = f"Evidence: lost {lost} of {total_expected} updates in {len(lossy)} of {len(runs)} runs."
    for run in runs:
        crash = child_crash(run.result, student_file)
        if crash:
            tail = evidence if lossy else ""
            raise CheckFailed(f"{crash}\nA process that fails stops before its work is done. {tail}".rstrip())
    if not races:
        for run in lossy:
            require_untampered(run.result, "processes")
            started, joined = calls(run.result, "Process.start"), calls(run.result, "Process.join")
            alive = len(run.result.live_children)
            if alive or (started and joined < started):
                raise CheckFailed(
                    f"The function read the result before its processes had finished: it started {started} "
                    f"process(es) and called join() {joined} time(s)"
                    + (f"; {alive} were still running when it returned" if alive else "")
                    + f". {evidence} join() every process before reading the shared result.")
    lines = []
    if races:
        text, hint = race_text(races[0], student_file)
        lines.append(text)
    else:
        hint = ""
    shown = next((update for run in runs if (update := lost_update(run.result))), None)
    if shown:
        lines.append(lost_update_text(shown, student_file))
    if lossy:
        lines.append(evidence)
    else:
        lines.append(f"No update happened to be lost in these {len(runs)} runs, but the next run could lose some.")
    lines.append(fix)
    raise CheckFailed("\n".join(lines) + hint)
