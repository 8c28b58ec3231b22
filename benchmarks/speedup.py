"""Speedup grading: points and verdicts for the reference and for cheats, under three machine conditions.

    python benchmarks/speedup.py [--runs 20] [--conditions idle,hog,pinned]

Variants: the reference solution (solutions/), and in tests/submissions/speedup/
a serial-in-disguise (plain map), a ThreadPool, a Pool(1) and a sleep-based
fake. Conditions: idle; a CPU hog spinning on one core the whole time; and
the whole grading pinned to one core with ``taskset -c 0``. Each cell grades
ex02's speedup check ``--runs`` times (fresh seed each) and reports the
points (share of the check's), the verdicts, and seconds per check.

Targets (2-core machine): the reference gets full points every time when
idle, and is never failed with the hog (full points or "not measurable
here"); every cheat gets no speedup points in every condition; one check
under 15 s.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VARIANTS = {"reference": ROOT / "solutions",
            **{p.name: p for p in sorted((ROOT / "tests" / "submissions" / "speedup").iterdir())}}
CHECK = ("ex02_pool", "test_primes_in_ranges_speedup")


def worker(variant: str, runs: int, first_seed: int) -> None:
    """Grade one variant ``runs`` times in this process; print one JSON line per run."""
    sys.path.insert(0, str(ROOT / "graders"))
    from mpgrade.direct import run_check

    for run in range(runs):
        outcome = run_check(*CHECK, VARIANTS[variant], "spawn", seed=first_seed + run)
        print(json.dumps({"variant": variant, "status": outcome.status, "fraction": outcome.fraction,
                          "seconds": outcome.seconds, "measurable": outcome.details.get("measurable"),
                          "speedup": outcome.details.get("speedup", {})}), flush=True)


def run_condition(condition: str, runs: int) -> list[dict]:
    prefix = ["taskset", "-c", "0"] if condition == "pinned" else []
    hog = None
    if condition == "hog":
        hog = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    rows = []
    try:
        for run in range(runs):  # interleave the variants run by run
            for variant in VARIANTS:
                out = subprocess.run(prefix + [sys.executable, __file__, "--worker", variant, "--seed", str(run * 101)],
                                     capture_output=True, text=True, timeout=600)
                rows.extend(json.loads(line) for line in out.stdout.splitlines() if line.startswith("{"))
    finally:
        if hog is not None:
            hog.kill()
            hog.wait()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--conditions", default="idle,hog,pinned")
    parser.add_argument("--worker")
    parser.add_argument("--seed", type=int, default=0)
    options = parser.parse_args()
    if options.worker:
        worker(options.worker, 1, options.seed)
        return
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"{options.runs} runs per cell, check {CHECK[0]}::{CHECK[1]}")
    print(f"{'condition':<8} {'variant':<20} {'full':>5} {'partial':>8} {'none':>5} {'not meas.':>10} "
          f"{'mean pts':>9} {'mean s':>7} {'max s':>6} {'engine x':>9} {'student x':>10}")
    for condition in options.conditions.split(","):
        rows = run_condition(condition, options.runs)
        for variant in VARIANTS:
            mine = [r for r in rows if r["variant"] == variant]
            if not mine:
                continue
            fractions = [r["fraction"] for r in mine]
            speed = [r["speedup"] for r in mine if r["speedup"]]
            print(f"{condition:<8} {variant:<20} {sum(f == 1 for f in fractions):>5} "
                  f"{sum(0 < f < 1 for f in fractions):>8} {sum(f == 0 for f in fractions):>5} "
                  f"{sum(r['measurable'] is False for r in mine):>10} {statistics.mean(fractions):>9.2f} "
                  f"{statistics.mean(r['seconds'] for r in mine):>7.1f} {max(r['seconds'] for r in mine):>6.1f} "
                  f"{statistics.median(s['engine_speedup'] for s in speed) if speed else 0:>9.2f} "
                  f"{statistics.median(s['student_speedup'] for s in speed) if speed else 0:>10.2f}", flush=True)


if __name__ == "__main__":
    main()
