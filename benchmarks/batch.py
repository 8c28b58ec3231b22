"""Batch grading throughput: a synthetic class of 40, all ten exercises, 1 worker and the default.

    python benchmarks/batch.py [--students 40] [--workers 1,default]

The class mixes reference solutions, untouched stubs and submissions with
one exercise replaced by a known mistake (tests/submissions/), as folders
and as zips. Prints wall time, submissions per minute and the peak memory
of the whole process tree (sampled), per worker setting.
"""
from __future__ import annotations

import argparse
import os
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=40)
    parser.add_argument("--workers", default="1,default")
    options = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"{options.students} submissions, all exercises")
    print(f"{'workers':<8} {'wall s':>8} {'per minute':>11} {'peak MB':>8}  result")
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
            print(f"{setting:<8} {wall:>8.0f} {options.students / wall * 60:>11.1f} {peak[0] / 2**20:>8.0f}  {first}",
                  flush=True)


if __name__ == "__main__":
    main()
