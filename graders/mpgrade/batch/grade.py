"""Grade a whole class: parallel, isolated, resumable, shardable (trusted side).

    mpgrade grade SUBMISSIONS_DIR --out RESULTS_DIR [--workers N] [--only a,b] [--force] [--shard I/N|auto|all]
    mpgrade merge RESULTS_DIR... --out MERGED_DIR

Each student is graded by the kit's own graders in a pytest child process of
its own (``grading.grade``), with a time budget; a hang, crash or garbage output
ends as that student's ``error`` row, never anyone else's. Results go to
``RESULTS_DIR/students/<id>/`` (report.json, feedback.md, status.json), each
written atomically, status last, so an interrupted run loses nothing already
graded and a re-run skips students whose files are unchanged. The gradebook
(``gradebook.csv``), ``summary.json`` and the class report (``report.html``)
are rebuilt from those folders, which
is also all that ``merge`` does with several shards' folders. Which slice a
folder holds, and of which class, is in its ``shard.json`` (``shards.py``);
which graders and which machine graded each student, in its status and
report (``provenance.py``): ``merge`` refuses grades from different graders,
flags speedups judged on another kind of machine, and names the students no
shard finished.
"""
from __future__ import annotations

import csv
import io
import json
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Any

from mpgrade.course import curriculum
from mpgrade.grading import report
from mpgrade.grading.command import grade  # the same grading `mpgrade check` does
from mpgrade.reporters import canvas, markdown
from mpgrade.batch.intake import Submission, fingerprint, prepare
from mpgrade.batch.misconceptions import Misconceptions
from mpgrade.sandbox.machine import usable_cpus
from mpgrade.grading.provenance import UNKNOWN, MachineKind, graders_digest, kit_version, machine_flags, refuse_mixed_graders, \
    speedup_judged, this_machine
from mpgrade.batch.shards import Shard, ShardRecord, check_resume, missing_students

CANVAS_ASSIGNMENT = "mpgrade"
"""The assignment column of ``canvas.csv`` unless one is named (``Title`` or ``Title (canvas id)``)."""
STUDENT_BUDGET_S = 900.0
"""Wall-clock budget for grading one student (all exercises)."""
GRADING_PEAK_MB = 400
"""What one student's grading may hold at once (pytest child, template, a call's processes): 150-250 MB seen."""


def default_workers(cpus: int | None = None, available_mb: float | None = None) -> int:
    """Students graded at once when ``--workers`` is not given: one more than the usable CPUs, as memory allows.

    A student's grading leaves the CPUs idle while it waits: out a call's time
    limit (a hang), for another student's speedup measurement, between its
    own calls. One extra grading fills those gaps; more only queue on the
    same CPUs (and on the speedup lock). Measured on 2 cores (README,
    Performance): 3 at once beat 2 and 4.
    """
    cpus = cpus if cpus is not None else usable_cpus()
    if available_mb is None:
        import psutil

        available_mb = psutil.virtual_memory().available / 2**20
    by_memory = int(available_mb // 2 // GRADING_PEAK_MB)  # half the free memory, for the students' own calls
    return max(1, min(cpus + 1, by_memory))


def _write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)


def grade_one(student: Submission, results: Path, force: bool, budget_s: float,
              exercises: list[str] | None = None) -> dict[str, Any]:
    """Grade one student into ``results/students/<id>/``; return its status record."""
    folder = results / "students" / student.id
    previous = folder / "status.json"
    try:
        old = json.loads(previous.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        old = None
    status: dict[str, Any] = {"id": student.id, "source": str(student.source), "flags": student.flags,
                              "graders": graders_digest(), "kit": kit_version()}
    if student.problem:
        status.update(status="error", reason=student.problem)
        if old == status:  # rewritten only when it says something new: a resume leaves it as it was
            return {**status, "skipped": True}
        _write_json(previous, status)
        return status
    digest, selection = fingerprint(student.exercises), sorted(exercises or [])
    status.update(exercises=selection)
    # Kept only if nothing a grade depends on has changed: the student's files, the graders, the selection.
    if (not force and old is not None and old.get("hash") == digest and old.get("status") == "graded"
            and old.get("graders") == status["graders"] and old.get("exercises", []) == selection):
        old["skipped"] = True
        return old
    began = time.monotonic()
    try:
        graded = grade(student.exercises, list(exercises or []), folder / "report.json", timeout_s=budget_s)
    except TimeoutError:
        status.update(status="error", reason=f"grading did not finish within {budget_s:g} s")
    except RuntimeError as problem:
        status.update(status="error", reason=str(problem).strip().splitlines()[-1][:300])
    else:
        (folder / "feedback.md").write_text(markdown.feedback(graded, f"Feedback for {student.id}", pictures=True),
                                             encoding="utf-8")
        status.update(status="graded", score=graded["score"], max_score=graded["max_score"])
    status.update(hash=digest, seconds=round(time.monotonic() - began, 1))
    _write_json(previous, status)
    return status


class Progress:
    """``[done/total] id points  ETA`` lines on stderr."""

    def __init__(self, total: int) -> None:
        self.total, self.done, self.began = total, 0, time.monotonic()

    def advance(self, status: dict[str, Any]) -> None:
        self.done += 1
        elapsed = time.monotonic() - self.began
        eta = elapsed / self.done * (self.total - self.done)
        what = (f"{status.get('score', 0):g}/{status.get('max_score', 0):g}" if status.get("status") == "graded"
                else f"error: {status.get('reason', '')[:60]}")
        note = " (unchanged, kept)" if status.get("skipped") else ""
        print(f"[{self.done}/{self.total}] {status['id']}: {what}{note}   ETA {eta:.0f} s", file=sys.stderr, flush=True)


def grade_class(submissions: Path, results: Path, workers: int | None = None, only: list[str] | None = None,
                force: bool = False, shard: Shard | None = None, budget_s: float = STUDENT_BUDGET_S,
                exercises: list[str] | None = None, canvas_assignment: str = CANVAS_ASSIGNMENT,
                roster: list[dict[str, str]] | None = None) -> dict[str, Any]:
    """Grade every (selected) student in ``submissions`` into ``results``; return the summary."""
    exercises = curriculum.select(exercises) if exercises else exercises  # an unknown name: ValueError, now
    submissions, results = Path(submissions).resolve(), Path(results).resolve()
    results.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="mpgrade-class-") as workspace:
        students = prepare(submissions, Path(workspace))
        ids = [s.id for s in students]
        check_resume(results, shard, ids)
        ShardRecord(str(shard) if shard else None, sorted(ids), graders_digest(),
                    shard.origin if shard else "", this_machine()).write(results)
        if shard is not None:
            picked = set(shard.pick(ids))
            students = [s for s in students if s.id in picked]
            print(f"grading shard {shard} (from {shard.origin}): {len(students)} of {len(ids)} students",
                  file=sys.stderr, flush=True)
        if only:
            wanted = set(only)
            unknown = wanted - {s.id for s in students}
            if unknown:
                raise ValueError(f"no submission for {', '.join(sorted(unknown))}")
            students = [s for s in students if s.id in wanted]
            force = True  # asked for by name: regrade
        progress = Progress(len(students))
        with ThreadPoolExecutor(max_workers=workers or default_workers()) as pool:
            futures = [pool.submit(grade_one, student, results, force, budget_s, exercises) for student in students]
            for future in as_completed(futures):
                progress.advance(future.result())
    return write_gradebook([results], results, canvas_assignment, roster, whole_class=False)


def _rows(result_dirs: list[Path]) -> list[dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = {}
    for results in result_dirs:
        for status_file in sorted((results / "students").glob("*/status.json")):
            status = json.loads(status_file.read_text(encoding="utf-8"))
            if status["id"] in rows:
                raise ValueError(f"student {status['id']} appears in more than one results folder")
            graded = None
            if status.get("status") == "graded":
                try:
                    graded = report.load(status_file.parent / "report.json")
                except (OSError, ValueError):
                    status.update(status="error", reason="report missing or unreadable")
            rows[status["id"]] = {"status": status, "report": graded, "folder": status_file.parent}
    return [rows[key] for key in sorted(rows)]


def write_gradebook(result_dirs: list[Path], out: Path, canvas_assignment: str = CANVAS_ASSIGNMENT,
                    roster: list[dict[str, str]] | None = None, whole_class: bool = True) -> dict[str, Any]:
    """Write ``gradebook.csv``, ``canvas.csv``, ``summary.json`` and ``report.html`` into ``out``; return the summary.

    ``roster`` (a Canvas gradebook export, read by ``canvas.read_roster``) gives
    ``canvas.csv`` the Canvas columns of each student it holds. Raises
    ValueError for results that must not be merged (different graders,
    splits or classes; a student or shard twice). ``whole_class``: name every
    student of the class that no folder holds as missing, not only those of
    the slices given.
    """
    rows = _rows(result_dirs)
    refuse_mixed_graders((row["status"]["id"], row["status"].get("graders", UNKNOWN),
                          row["status"].get("kit", UNKNOWN)) for row in rows)
    missing = missing_students(result_dirs, {row["status"]["id"] for row in rows}, whole_class)
    for student, reason in missing.items():
        rows.append({"status": {"id": student, "status": "missing", "reason": reason}, "report": None, "folder": None})
    rows.sort(key=lambda row: row["status"]["id"])
    kinds = {row["status"]["id"]: MachineKind.of(row["report"].get("environment") or {})
             for row in rows if row["report"] and speedup_judged(row["report"])}
    machine_flagged, machines = machine_flags(kinds)
    exercises = sorted({name for row in rows if row["report"] for name in row["report"]["exercises"]})
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["id", "total", "max_score", *exercises, "status", "flags"])
    totals, passes, failed_checks = [], Counter(), Counter()
    misconceptions = Misconceptions()
    for row in rows:
        status, graded = row["status"], row["report"]
        row["flags"] = [*(status.get("flags") or []), *filter(None, [machine_flagged.get(status["id"])])]
        flags = ";".join(row["flags"])
        if graded is None:
            writer.writerow([status["id"], "", "", *[""] * len(exercises), status.get("status", "error"),
                             flags or status.get("reason", "")])
            continue
        scores = [graded["exercises"].get(name, {}).get("score", "") for name in exercises]
        writer.writerow([status["id"], graded["score"], graded["max_score"], *scores, "graded", flags])
        totals.append(graded["score"])
        for name, exercise in graded["exercises"].items():
            passes[name] += exercise["score"] == exercise["max_score"]
            failed_checks.update(f"{name}: {c['name']}" for c in exercise["checks"] if c["status"] in ("failed", "error"))
        misconceptions.add(status["id"], graded)
    out.mkdir(parents=True, exist_ok=True)
    report.write_text(out / "gradebook.csv", buffer.getvalue())
    grades = [canvas.Grade(row["status"]["id"], row["report"]["score"] if row["report"] else None) for row in rows]
    most = max((row["report"]["max_score"] for row in rows if row["report"]), default=0)
    canvas_text, not_in_roster = canvas.gradebook(grades, canvas_assignment, most, roster)
    report.write_text(out / "canvas.csv", canvas_text)
    graded_count = len(totals)
    summary = {
        "students": len(rows), "graded": graded_count, "errors": len(rows) - graded_count - len(missing),
        "missing": {student: missing[student] for student in sorted(missing)},
        "mean": round(statistics.mean(totals), 2) if totals else None,
        "median": statistics.median(totals) if totals else None,
        "pass_rates": {name: round(passes[name] / graded_count, 3) if graded_count else None for name in exercises},
        "most_failed_checks": [{"check": name, "students": n} for name, n in failed_checks.most_common(10)],
        "common_causes": misconceptions.most_common(10),
        "speedup_machines": machines,
        "speedup_on_other_machine": sorted(machine_flagged),
    }
    if roster is not None:
        summary["not_in_canvas_roster"] = not_in_roster
    _write_json(out / "summary.json", summary)
    from mpgrade.batch.classreport import render

    for row in rows:
        row["feedback_link"] = f"students/{row['folder'].name}/feedback.md" if row["folder"] else None
    report.write_text(out / "report.html", render(rows, summary))
    if out not in result_dirs:  # a merge: bring the student folders along
        for row in rows:
            if row["folder"] is None:
                continue
            target = out / "students" / row["folder"].name
            if target.resolve() != row["folder"].resolve():
                shutil.rmtree(target, ignore_errors=True)
                shutil.copytree(row["folder"], target)
    return summary


def summary_text(summary: dict[str, Any]) -> str:
    """The printed summary of a graded class."""
    missing = summary.get("missing") or {}
    lines = [f"{summary['students']} students: {summary['graded']} graded, {summary['errors']} errors"
             + (f", {len(missing)} missing" if missing else "")
             + f"; mean {summary['mean']}, median {summary['median']}"]
    lines += [f"  {name}: {rate:.0%} full marks" for name, rate in summary["pass_rates"].items() if rate is not None]
    if summary.get("common_causes"):
        lines.append("most common causes (students, what they did, where):")
        lines += [f"  {item['students']:>3}  {item['title']} ({', '.join(item['exercises'])})"
                  for item in summary["common_causes"][:5]]
    if summary["most_failed_checks"]:
        lines.append("most failed checks:")
        lines += [f"  {item['students']:>3}  {item['check']}" for item in summary["most_failed_checks"][:5]]
    if missing:
        lines.append("missing (no grade yet):")
        lines += [f"  {student}: {reason}" for student, reason in missing.items()]
    if summary.get("speedup_on_other_machine"):
        machines = "; ".join(f"{item['students']} on {item['machine']}" for item in summary["speedup_machines"])
        lines.append(f"speedup judged on other machines than most ({machines}); regrade these on one kind "
                     f"(mpgrade grade --only): " + ", ".join(summary["speedup_on_other_machine"]))
    if summary.get("not_in_canvas_roster"):
        lines.append("not in the Canvas roster (canvas.csv names them by id): "
                     + ", ".join(summary["not_in_canvas_roster"]))
    return "\n".join(lines)
