"""Batch grading throughput: a synthetic class of 40, all ten exercises, 1 worker and the default.

    python benchmarks/batch.py [--students 40] [--workers 1,default]

The class mixes reference solutions, untouched stubs and submissions with
one exercise replaced by a known mistake (tests/submissions/), as folders
and as zips. Prints wall time, submissions per minute and the peak memory
of the whole process tree (sampled), per worker setting, and what ex02's
CPU seconds the machine was busy per wall second (2.0 on 2 CPUs: none idle; run it alone),
the speedup check cost per student (median/max seconds): the whole check, its
wait for the CPUs (another student's calls finishing), and the time it held
them for students after the batch's calibration (what the check costs the
batch: measurements take the CPUs to themselves, so on 2 CPUs nothing else
runs meanwhile), with the held time's share of the wall time. Times are also given in units of a reference job timed in
the same run (best of 3 of a fixed pure-Python prime count).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path

import psutil

from mpgrade.course.parts import materialize

ROOT = Path(__file__).resolve().parent.parent
MISTAKES = sorted(materialize(p) for p in (ROOT / "tests" / "submissions").iterdir()
                  if p.is_dir() and p.name.startswith("ex") and list(p.glob("ex*.py")))
"""The one-mistake fixtures, whole (they are stored as what the student wrote: mpgrade.course.parts)."""


def build_class(folder: Path, students: int) -> None:
    """``students`` repositories: a third solutions, a sixth stubs, the rest one known mistake each."""
    for index in range(students):
        repo = folder / f"assignment-student{index:02d}"
        exercises = repo / "exercises"
        kind = index % 6
        source = ROOT / ("exercises" if kind == 5 else "solutions")
        shutil.copytree(source, exercises, ignore=shutil.ignore_patterns("README.md", "__pycache__"))
        if kind in (2, 3, 4):
            mistake = MISTAKES[index % len(MISTAKES)]
            for module in mistake.glob("ex*.py"):
                shutil.copy(module, exercises / module.name)
        if index % 5 == 4:  # some arrive as zips
            with zipfile.ZipFile(folder / f"{repo.name}.zip", "w") as zipped:
                for path in exercises.rglob("*.py"):
                    zipped.write(path, f"{repo.name}/{path.relative_to(repo)}")
            shutil.rmtree(repo)


def peak_rss(stop: threading.Event, process: psutil.Popen, peak: list[int]) -> None:
    while not stop.is_set():
        try:
            tree = [process, *process.children(recursive=True)]
            peak[0] = max(peak[0], sum(p.memory_info().rss for p in tree if p.is_running()))
        except psutil.Error:
            pass
        time.sleep(0.2)


def reference_job() -> float:
    """Seconds for a fixed pure-Python job, best of 3 (the same job as benchmarks/speedup.py's)."""
    best = float("inf")
    for _ in range(3):
        began = time.perf_counter()
        sum(1 for n in range(2, 60_000) if all(n % d for d in range(2, int(n ** 0.5) + 1)))
        best = min(best, time.perf_counter() - began)
    return best


def speedup_costs(results: Path) -> list[dict]:
    """Each graded student's speedup check: its seconds, and (when it measured) waiting vs holding the CPUs."""
    found = []
    for path in results.glob("students/*/report.json"):
        report = json.loads(path.read_text())
        for check in report["exercises"].get("ex02_pool", {}).get("checks", []):
            if check["id"].endswith("test_primes_in_ranges_speedup"):
                found.append({"duration_s": check["duration_s"], **check.get("details", {}).get("cost", {})})
    return found


def describe_costs(costs: list[dict], wall: float) -> tuple[str, str, str, str]:
    """med/max of the whole check, of its wait for CPUs, of its CPU-holding time after calibration; share of wall."""
    def med_max(values: list[float]) -> str:
        return f"{statistics.median(values):.1f}/{max(values):.1f}" if values else "-"

    whole = [c["duration_s"] for c in costs]
    waited = [c["waited_s"] for c in costs if "waited_s" in c]
    holding = [c["holding_s"] for c in costs if "holding_s" in c and not c["calibrated"]]
    share = f"{sum(c.get('holding_s', 0.0) for c in costs) / wall:.0%}" if costs else "-"
    return med_max(whole), med_max(waited), med_max(holding), share


def machine_busy_s() -> float:
    """CPU seconds this machine has spent busy since boot (user, nice, system, irq; not idle, not steal).

    Not RUSAGE_CHILDREN: each grading process's sandbox template outlives it
    and is reaped by init, so the supervisors and runners it forked never
    reach this process's account. The machine-wide figure counts them, and
    anything else running: take it on an otherwise idle machine.
    """
    if not os.path.exists("/proc/stat"):
        return float("nan")
    with open("/proc/stat", encoding="ascii") as handle:
        fields = [int(v) for v in handle.readline().split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq = fields[:7]
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=40)
    parser.add_argument("--workers", default="1,default")
    parser.add_argument("--keep", type=Path, help="keep the class and each run's results here (to compare "
                                                  "gradebooks between runs)")
    options = parser.parse_args()
    unit = reference_job()
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"{options.students} submissions, all exercises; reference job {unit:.3f} s")
    print(f"{'workers':<8} {'wall s':>8} {'wall/ref':>9} {'per minute':>11} {'CPU/wall':>8} {'peak MB':>8} "
          f"{'speedup check s med/max':>24} {'waiting for CPUs':>17} {'holding, after cal':>18} "
          f"{'CPUs held, share of wall':>25}  result")
    with tempfile.TemporaryDirectory() as temporary:
        scratch = str(options.keep or temporary)
        if options.keep:
            options.keep.mkdir(parents=True, exist_ok=True)
        submissions = Path(scratch) / "class"
        shutil.rmtree(submissions, ignore_errors=True)
        submissions.mkdir()
        build_class(submissions, options.students)
        for run, setting in enumerate(options.workers.split(",")):
            out = Path(scratch) / f"results-{run}-{setting}"  # a fresh folder each: a repeat regrades everyone
            shutil.rmtree(out, ignore_errors=True)
            command = [sys.executable, "-m", "mpgrade", "grade", str(submissions), "--out", str(out)]
            if setting != "default":
                command += ["--workers", setting]
            began, cpu_before = time.monotonic(), machine_busy_s()
            process = psutil.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
            stop, peak = threading.Event(), [0]
            sampler = threading.Thread(target=peak_rss, args=(stop, process, peak))
            sampler.start()
            output, _ = process.communicate()
            stop.set()
            sampler.join()
            wall, cpu = time.monotonic() - began, machine_busy_s() - cpu_before
            # The gradebook's summary line (a warning that student code is not confined may come first).
            lines = [line for line in output.strip().splitlines() if not line.startswith("WARNING")]
            first = lines[0] if lines else f"exit code {process.returncode}"
            whole, waited, holding, share = describe_costs(speedup_costs(out), wall)
            print(f"{setting:<8} {wall:>8.0f} {wall / unit:>9.0f} {options.students / wall * 60:>11.1f} "
                  f"{cpu / wall:>8.2f} {peak[0] / 2**20:>8.0f} {whole:>24} {waited:>17} {holding:>18} {share:>25}  {first}",
                  flush=True)


if __name__ == "__main__":
    main()
