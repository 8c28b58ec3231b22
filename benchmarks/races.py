"""Race detection: rate and time per check for racy and correct variants, per start method.

    python benchmarks/races.py [--runs 50] [--methods fork,spawn,forkserver] [--landlock auto,off]

Each variant (tests/submissions/races/<variant>/) is graded by its
exercise's race check, ``--runs`` times per start method, with a fresh seed
(fresh sizes) each time; runs are interleaved across variants and methods.
A racy variant must be flagged every time, a correct one never; the table
shows how often each was flagged and the mean and worst seconds per check.
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "graders"))

from mpgrade.course.parts import materialize  # noqa: E402
from mpgrade.grading.direct import run_check  # noqa: E402

VARIANTS = ROOT / "tests" / "submissions" / "races"
CHECKS = {
    "ex05_counter": "test_parallel_count_loses_no_update",
    "ex06_array": "test_parallel_bump_loses_no_update",
    "ex07_manager": "test_no_update_is_lost_under_contention",
}
DISJOINT_CHECK = ("ex06_array", "test_parallel_square_on_disjoint_slices")


def plan() -> list[tuple[str, str, str, bool]]:
    """(variant, exercise, check, racy) for every variant folder."""
    rows = []
    for folder in sorted(materialize(p) for p in VARIANTS.iterdir()):
        exercise = next(folder.glob("ex*.py")).stem
        check = CHECKS[exercise]
        if "disjoint" in folder.name:
            exercise, check = DISJOINT_CHECK
        rows.append((folder.name, exercise, check, folder.name.startswith("racy")))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--methods", default="fork,spawn,forkserver")
    parser.add_argument("--landlock", default="auto", help="auto, off, or auto,off: a cell per setting (Landlock "
                                                           "confinement of student code where it works)")
    options = parser.parse_args()
    methods = [(method, landlock) for method in options.methods.split(",") for landlock in options.landlock.split(",")]
    rows = plan()
    flagged: dict[tuple[str, str], int] = {}
    seconds: dict[tuple[str, str], list[float]] = {}
    for run in range(options.runs):
        for method in methods:
            for variant, exercise, check, _ in rows:
                outcome = run_check(exercise, check, materialize(VARIANTS / variant), method[0], seed=run * 7919 + 13,
                                    landlock=method[1])
                key = (variant, method)
                flagged[key] = flagged.get(key, 0) + (outcome.status == "failed")
                seconds.setdefault(key, []).append(outcome.seconds)
        print(f"round {run + 1}/{options.runs} done", file=sys.stderr, flush=True)
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"{options.runs} grading runs per cell")
    print(f"{'variant':<36} {'method, landlock':<17} {'flagged':>9} {'verdict':>8} {'mean s':>7} {'max s':>6}")
    all_right = True
    for variant, _, _, racy in rows:
        for method in methods:
            key = (variant, method)
            hits = flagged[key]
            right = hits == options.runs if racy else hits == 0
            all_right &= right
            print(f"{variant:<36} {', '.join(method):<17} {hits:>4}/{options.runs:<4} {'ok' if right else 'WRONG':>8} "
                  f"{statistics.mean(seconds[key]):>7.2f} {max(seconds[key]):>6.2f}")
    print("every verdict right" if all_right else "SOME VERDICTS WRONG")


if __name__ == "__main__":
    main()
