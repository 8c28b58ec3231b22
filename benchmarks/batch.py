"""Batch grading throughput: a synthetic class of 40, all ten exercises, 1 worker and the default.

    python benchmarks/batch.py [--students 40] [--workers 1,default]

The class mixes reference solutions, untouched stubs and submissions with
one exercise replaced by a known mistake (tests/submissions/), as folders
and as zips. Prints wall time, submissions per minute and the peak memory
of the whole process tree (sampled), per worker setting, and what ex02's
speedup check cost per student (median and max seconds, and its share of the
wall time; measurements take the CPUs to themselves, so on 2 CPUs they run
one at a time). Times are also given in units of a reference job timed in
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

ROOT = Path(__file__).resolve().parent.parent
MISTAKES = sorted(p for p in (ROOT / "tests" / "submissions").iterdir()
                  if p.is_dir() and p.name.startswith("ex") and list(p.glob("ex*.py")))


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


def speedup_costs(results: Path) -> list[float]:
    """Seconds each graded student's speedup check took (from the reports)."""
    found = []
    for path in results.glob("students/*/report.json"):
        report = json.loads(path.read_text())
        for check in report["exercises"].get("ex02_pool", {}).get("checks", []):
            if check["id"].endswith("test_primes_in_ranges_speedup"):
                found.append(check["duration_s"])
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=40)
    parser.add_argument("--workers", default="1,default")
    options = parser.parse_args()
    unit = reference_job()
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"{options.students} submissions, all exercises; reference job {unit:.3f} s")
    print(f"{'workers':<8} {'wall s':>8} {'wall/ref':>9} {'per minute':>11} {'peak MB':>8} "
          f"{'speedup check s med/max':>24} {'share of wall':>14}  result")
    with tempfile.TemporaryDirectory() as scratch:
        submissions = Path(scratch) / "class"
        submissions.mkdir()
        build_class(submissions, options.students)
        for setting in options.workers.split(","):
            out = Path(scratch) / f"results-{setting}"
            command = [sys.executable, "-m", "mpgrade", "grade", str(submissions), "--out", str(out)]
            if setting != "default":
                command += ["--workers", setting]
            began = time.monotonic()
            process = psutil.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
            stop, peak = threading.Event(), [0]
            sampler = threading.Thread(target=peak_rss, args=(stop, process, peak))
            sampler.start()
            output, _ = process.communicate()
            stop.set()
            sampler.join()
            wall = time.monotonic() - began
            first = output.strip().splitlines()[0] if output.strip() else f"exit code {process.returncode}"
            costs = speedup_costs(out)
            cost = f"{statistics.median(costs):.1f}/{max(costs):.1f}" if costs else "-"
            share = f"{sum(costs) / wall:.0%}" if costs else "-"
            print(f"{setting:<8} {wall:>8.0f} {wall / unit:>9.0f} {options.students / wall * 60:>11.1f} "
                  f"{peak[0] / 2**20:>8.0f} {cost:>24} {share:>14}  {first}", flush=True)


if __name__ == "__main__":
    main()
