"""What a deadlock costs: each deadlocking catalogue entry graded as a student would, against the reference solution.

    python benchmarks/deadlocks.py [--rounds 2] [--only ex03,ex04]

For every entry of ``tests/submissions/mistakes/`` whose expected feedback
names a deadlock, runs ``mpgrade check --submission ENTRY exNN`` and the same
for the reference solutions, interleaved (solution, entry, solution, entry,
...), and prints the median wall time of each, the difference in seconds and
in reference jobs (a fixed prime count timed in the same run), and whether
every check the entry must fail said who waited where (a student's line and
"deadlock"). The target: a deadlocked exercise costs at most a few seconds
more than a correct one, not the call's 20 s limit per check. Run it alone:
it measures time.
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
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "tests" / "submissions" / "mistakes"
sys.path.insert(0, str(Path(__file__).resolve().parent))

from batch import reference_job  # noqa: E402  (a sibling benchmark)
from mpgrade.course.parts import materialize  # noqa: E402


def deadlocking_entries(only: list[str]) -> list[Path]:
    """Entries whose expected feedback names a deadlock."""
    found = []
    for folder in sorted(CATALOGUE.iterdir()):
        expect = folder / "expect.json"
        if not expect.is_file() or (only and not folder.name.startswith(tuple(only))):
            continue
        says = [p for wants in json.loads(expect.read_text())["fails"].values() for p in wants.get("says", [])]
        if any("deadlock" in phrase for phrase in says):
            found.append(materialize(folder))  # whole, from the stored part
    return found


def check(submission: Path, exercise: str) -> tuple[float, dict]:
    """Seconds ``mpgrade check`` took, and its report."""
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "report.json"
        began = time.perf_counter()
        subprocess.run([sys.executable, "-m", "mpgrade", "check", "--submission", str(submission), exercise,
                        "--report", str(report)], capture_output=True, check=False)
        seconds = time.perf_counter() - began
        return seconds, json.loads(report.read_text()) if report.is_file() else {}


def named_the_waits(report: dict, expect: dict) -> bool:
    """Every check the entry must fail failed, saying "deadlock" and naming a line of the student's file."""
    checks = {c["id"].split("::")[-1]: c for e in report.get("exercises", {}).values() for c in e["checks"]}
    for name in json.loads(expect)["fails"]:
        text = checks.get(name, {}).get("feedback", "")
        if checks.get(name, {}).get("status") != "failed" or "deadlock" not in text or ".py:" not in text:
            return False
    return True


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--only", default="", help="entry name prefixes, comma-separated")
    args = parser.parse_args()
    entries = deadlocking_entries([o for o in args.only.split(",") if o])
    reference = reference_job()
    print(f"machine: {os.cpu_count()} CPUs, {platform.processor() or platform.machine()}, Python "
          f"{platform.python_version()}; reference job {reference:.3f} s; {args.rounds} rounds, interleaved")
    print(f"{'entry':36} {'solution s':>10} {'entry s':>8} {'extra s':>8} {'extra ref':>9}  named who waits where")
    worst, all_named = 0.0, True
    for folder in entries:
        exercise = next(folder.glob("ex*.py")).stem[:4]
        solution, mistake, named = [], [], True
        for _ in range(args.rounds):
            solution.append(check(ROOT / "solutions", exercise)[0])
            seconds, report = check(folder, exercise)
            mistake.append(seconds)
            named = named and named_the_waits(report, (folder / "expect.json").read_text())
        extra = statistics.median(mistake) - statistics.median(solution)
        worst, all_named = max(worst, extra), all_named and named
        print(f"{folder.name:36} {statistics.median(solution):>10.1f} {statistics.median(mistake):>8.1f} "
              f"{extra:>8.1f} {extra / reference:>9.0f}  {'yes' if named else 'NO'}")
    print(f"\n{len(entries)} deadlocking entries; the most a deadlock added to its exercise: {worst:.1f} s "
          f"({worst / reference:.0f} reference jobs); every one named who waited where: {'yes' if all_named else 'NO'}")
    return 0 if all_named else 1


if __name__ == "__main__":
    raise SystemExit(main())
