"""Grading cost: one full submission, and classes of 8 and 40, in units of a reference job timed alongside.

    python benchmarks/submission.py [--runs 3] [--start-methods spawn,forkserver] [--classes 8,40]
                                    [--submissions solutions,exercises] [--warm-start on,off]

One full submission is ``mpgrade check`` on every exercise of a folder (the
reference solutions: every check runs to its end; the stubs: every check
fails at once), run ``--runs`` times per start method, the start methods
interleaved so the machine's drift hits each alike. Per cell: the median
wall seconds (and in reference jobs), the checks, and the three most costly
exercises (the sum of their checks' seconds, from the report). A class is
``mpgrade grade`` on a synthetic class (``benchmarks/batch.py``'s: a third
solutions, a sixth stubs, the rest one known mistake each) with the
default workers, or each of ``--class-workers``. CPU figures are the
machine's busy seconds (``/proc/stat``): run it on an otherwise idle machine. ``--warm-start on,off`` compares supervisors forked from
the template with fresh ones (``MPGRADE_WARM_START``), ``--landlock auto,off``
student code confined by Landlock with unconfined (``MPGRADE_LANDLOCK``), interleaved like the
start methods; each class is graded once per value.

The reference job is a fixed pure-Python prime count, best of 3, timed in
the same run (the same as the other benchmarks'), so machines of different
speed compare. Budget (on a 2-core machine): a full
submission <= 15 s, a class of 40 <= 6 minutes.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from batch import build_class, machine_busy_s, reference_job  # noqa: E402  (a sibling benchmark)


def with_warm_start(warm: str, landlock: str = "auto") -> dict[str, str]:
    """This process's environment with supervisors forked from the template (``on``) or fresh (``off``), and
    student code confined with Landlock (``auto``, where it works) or not (``off``)."""
    return {**os.environ, "MPGRADE_WARM_START": warm, "MPGRADE_LANDLOCK": landlock}


def check_once(submission: Path, start_method: str, report: Path, warm: str = "on",
               landlock: str = "auto") -> tuple[float, float, dict]:
    """Wall seconds and the machine's busy CPU seconds of one ``mpgrade check`` of every exercise, and its report."""
    command = [sys.executable, "-m", "mpgrade", "check", "--submission", str(submission),
               "--report", str(report), "--start-method", start_method]
    began, busy = time.perf_counter(), machine_busy_s()
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT,
                   env=with_warm_start(warm, landlock))
    wall, cpu = time.perf_counter() - began, machine_busy_s() - busy
    return wall, cpu, json.loads(report.read_text(encoding="utf-8"))


def exercise_seconds(report: dict) -> dict[str, float]:
    """Seconds per exercise: the sum of its checks' durations."""
    seconds: dict[str, float] = defaultdict(float)
    for name, exercise in report["exercises"].items():
        for check in exercise["checks"]:
            seconds[name] += float(check.get("duration_s") or 0.0)
    return dict(seconds)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--start-methods", default="spawn,forkserver")
    parser.add_argument("--submissions", default="solutions,exercises")
    parser.add_argument("--classes", default="8", help="class sizes to grade with mpgrade grade (empty: none)")
    parser.add_argument("--warm-start", default="on", help="on, off or on,off (MPGRADE_WARM_START)")
    parser.add_argument("--landlock", default="auto", help="auto, off or auto,off (MPGRADE_LANDLOCK)")
    parser.add_argument("--class-workers", default="default",
                        help="mpgrade grade --workers for the classes: default, or a list like 2,3")
    options = parser.parse_args()
    unit = reference_job()
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}; "
          f"reference job {unit:.3f} s", flush=True)
    print(f"{'submission':<11} {'start, warm, landlock':<22} {'runs':>4} {'checks':>6} {'wall s med':>10} {'min':>6} {'max':>6} "
          f"{'med/ref':>8} {'CPU s med':>9} {'points':>7}  most costly exercises (s)")
    warms = options.warm_start.split(",")
    landlocks = options.landlock.split(",")
    methods = [(method, warm, landlock) for method in options.start_methods.split(",") for warm in warms
               for landlock in landlocks]
    with tempfile.TemporaryDirectory() as scratch:
        for name in filter(None, options.submissions.split(",")):
            walls: dict[str, list[float]] = defaultdict(list)
            cpus: dict[str, list[float]] = defaultdict(list)
            costs: dict[str, list[dict[str, float]]] = defaultdict(list)
            last: dict[str, dict] = {}
            for run in range(options.runs):
                for method in (methods if run % 2 == 0 else methods[::-1]):  # interleaved, alternating order
                    wall, cpu, report = check_once(ROOT / name, method[0], Path(scratch) / f"{name}-{run}.json",
                                                   method[1], method[2])
                    walls[method].append(wall)
                    cpus[method].append(cpu)
                    costs[method].append(exercise_seconds(report))
                    last[method] = report
            for method in methods:
                report = last[method]
                median = statistics.median(walls[method])
                per_exercise = {ex: statistics.median(c[ex] for c in costs[method]) for ex in costs[method][0]}
                top = ", ".join(f"{ex} {s:.1f}" for ex, s in sorted(per_exercise.items(), key=lambda i: -i[1])[:3])
                checks = sum(len(e["checks"]) for e in report["exercises"].values())
                points = f"{report['score']:g}/{report['max_score']:g}"
                print(f"{name:<11} {', '.join(method):<22} {len(walls[method]):>4} {checks:>6} {median:>10.1f} "
                      f"{min(walls[method]):>6.1f} {max(walls[method]):>6.1f} {median / unit:>8.0f} {statistics.median(cpus[method]):>9.1f} {points:>7}  {top}",
                      flush=True)
        for size in filter(None, options.classes.split(",")):
            folder = Path(scratch) / f"class-{size}"
            folder.mkdir()
            build_class(folder, int(size))
            for warm, landlock in [(w, ll) for w in warms for ll in landlocks]:
                for workers in options.class_workers.split(","):
                    command = [sys.executable, "-m", "mpgrade", "grade", str(folder), "--out",
                               str(Path(scratch) / f"results-{size}-{warm}-{landlock}-{workers}")]
                    if workers != "default":
                        command += ["--workers", workers]
                    began, busy = time.perf_counter(), machine_busy_s()
                    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT,
                                          env=with_warm_start(warm, landlock))
                    wall, cpu = time.perf_counter() - began, machine_busy_s() - busy
                    first = (done.stdout.strip().splitlines() or [f"exit code {done.returncode}"])[0]
                    print(f"class of {size}, warm start {warm}, landlock {landlock}, workers {workers}: {wall:.0f} s ({wall / unit:.0f} ref), "
                          f"{wall / int(size):.1f} s per submission ({wall / int(size) / unit:.0f} ref), "
                          f"{int(size) / wall * 60:.1f} per minute, CPU {cpu / int(size):.1f} s per submission, "
                          f"{cpu / wall:.2f} CPUs busy  [{first}]", flush=True)


if __name__ == "__main__":
    main()
