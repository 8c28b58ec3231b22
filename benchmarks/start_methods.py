"""Does the start method change a verdict? Every known fixture graded under each start method, compared.

    python benchmarks/start_methods.py [--start-methods spawn,forkserver] [--only NAME,...]

The evidence for the default start method: every
correct variant and every known-mistake fixture under tests/submissions/
(the mistakes catalogue, the race and speedup variants, the older one-mistake
folders), plus the reference solutions and the untouched stubs, is graded
with ``mpgrade check`` on the exercises it holds, once per start method
(the methods interleaved). A fixture agrees when every check has the same
status and points under each method. Prints one row per fixture and the
seconds each method took in all, in units of a reference job timed in the
same run. The guard check is not compared: it runs the script under spawn
and forkserver itself, whatever the setting.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SUBMISSIONS = ROOT / "tests" / "submissions"
NOT_COMPARED = ("test_main_guard",)
sys.path.insert(0, str(Path(__file__).resolve().parent))

from batch import reference_job  # noqa: E402  (a sibling benchmark)
from mpgrade.course.parts import materialize  # noqa: E402


def fixtures() -> dict[str, Path]:
    """Every folder that holds exercise modules: name -> folder (hostile and guard have batteries of their own)."""
    found = {"solutions": ROOT / "solutions", "stubs": ROOT / "exercises"}
    for folder in sorted(SUBMISSIONS.rglob("*")):
        if (folder.is_dir() and folder.parent.name not in ("hostile", "guard")
                and any(folder.glob("ex[0-9][0-9]_*.py"))):
            found[str(folder.relative_to(SUBMISSIONS))] = materialize(folder)  # whole, from a stored part
    return found


def grade(folder: Path, method: str, report: Path) -> tuple[float, dict[str, tuple[str, float]]]:
    """Seconds, and each check's (status, score) under ``method``."""
    exercises = sorted({p.stem.split("_")[0] for p in folder.glob("ex[0-9][0-9]_*.py")})
    if folder.name in ("solutions", "exercises"):
        exercises = []  # all of them
    began = time.perf_counter()
    subprocess.run([sys.executable, "-m", "mpgrade", "check", *exercises, "--submission", str(folder),
                    "--report", str(report), "--start-method", method],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    seconds = time.perf_counter() - began
    try:
        data = json.loads(report.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return seconds, {"(no report)": ("error", 0.0)}
    checks = {}
    for exercise in data["exercises"].values():
        for check in exercise["checks"]:
            if not check["id"].endswith(NOT_COMPARED):
                checks[check["id"]] = (check["status"], float(check.get("score") or 0.0))
    return seconds, checks


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--start-methods", default="spawn,forkserver")
    parser.add_argument("--only", help="comma-separated fixture names (default: all)")
    options = parser.parse_args()
    methods = options.start_methods.split(",")
    chosen = fixtures()
    if options.only:
        chosen = {name: path for name, path in chosen.items() if name in options.only.split(",")}
    unit = reference_job()
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}; "
          f"{len(chosen)} fixtures; reference job {unit:.3f} s", flush=True)
    print(f"{'fixture':<48} {'checks':>6} {'failed':>6}  " + "  ".join(f"{m + ' s':>13}" for m in methods)
          + "  verdicts")
    totals = dict.fromkeys(methods, 0.0)
    disagreeing = 0
    with tempfile.TemporaryDirectory() as scratch:
        for index, (name, folder) in enumerate(chosen.items()):
            order = methods if index % 2 == 0 else methods[::-1]
            graded = {m: grade(folder, m, Path(scratch) / f"{index}-{m}.json") for m in order}
            for method in methods:
                totals[method] += graded[method][0]
            first = graded[methods[0]][1]
            differ = [f"{check.split('::')[-1]}: " + " / ".join(f"{m} {graded[m][1].get(check, ('missing',))[0]}"
                                                              for m in methods)
                      for check in sorted(set().union(*(graded[m][1] for m in methods)))
                      if len({graded[m][1].get(check) for m in methods}) > 1]
            disagreeing += bool(differ)
            failed = sum(1 for status, _ in first.values() if status != "passed")
            print(f"{name:<48} {len(first):>6} {failed:>6}  "
                  + "  ".join(f"{graded[m][0]:>13.1f}" for m in methods)
                  + ("  same" if not differ else "  DIFFER: " + "; ".join(differ)), flush=True)
    print(f"{len(chosen) - disagreeing}/{len(chosen)} fixtures graded alike; seconds in all: "
          + ", ".join(f"{m} {totals[m]:.0f} ({totals[m] / unit:.0f} ref)" for m in methods))


if __name__ == "__main__":
    main()
