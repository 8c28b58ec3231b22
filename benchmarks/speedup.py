"""Speedup grading: verdicts, how they were decided and what they cost, per variant and machine condition.

    python benchmarks/speedup.py [--runs 20] [--conditions idle,half,hog,pinned] [--variants a,b]
                                 [--start-method fork|spawn|forkserver]   (default: the kit's default)

Variants: the reference solution (solutions/) and every fixture in
tests/submissions/speedup/ (correct_*: correct variants; the rest: mistakes
and cheats). Conditions: idle; ``half``: a background process busy half of
one core (50 ms busy, 50 ms asleep); ``hog``: one core spinning the whole
time; ``pinned``: the whole grading under ``taskset -c 0``.

A check is decided by the clock (``clock``: the pairs, and for a fast
student one pair and the calibrated midpoint), by a structural mistake no
noise can make (``struct``: the clock was not needed, zero points whatever
it says), or falls back to structure because the machine cannot show a
speedup (``fallbk``). ``misvotes``: votes against the known truth (a
correct variant's pair voting serial; a serial variant's pair, or its run
against the calibrated midpoint, voting parallel) over all votes cast.

Each run is one grading process (``--worker``) that grades every variant
once, in a fresh order, as a batch grades students: the first check of a
run pays the calibration (serial anchor), the others share it. Per cell:
full points / none, how many were decided by measurement (not the
structural fallback), the median and max seconds per check, and seconds
per check after the first of the run. Times are also given normalised by a
reference job timed in the same run (best of 3 of a fixed pure-Python prime
count), so machines of different speed compare.

Targets (this project's 2-core machine): correct variants never lose a
point; no mistake ever gets full points; at idle and half load >= 90% of the
checks decided by measurement (clock or struct, not the fallback); median
check <= 5 s, <= 3 s after calibration.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VARIANTS = {"reference": ROOT / "solutions",
            **{p.name: p for p in sorted((ROOT / "tests" / "submissions" / "speedup").iterdir()) if p.is_dir()}}
CORRECT = {"reference"} | {name for name in VARIANTS if name.startswith("correct_")}
SERIAL_TRUTH = {"serial_loop", "serial_in_disguise", "pool_of_one", "threadpool", "clock_patch"}
"""Variants that truly run no faster than one process (the others' pairs have no known truth)."""
CHECK = ("ex02_pool", "test_primes_in_ranges_speedup")
HALF_LOAD = "import time\nwhile True:\n    end = time.perf_counter() + 0.05\n    while time.perf_counter() < end: pass\n    time.sleep(0.05)\n"


def reference_job() -> float:
    """Seconds for a fixed pure-Python job, best of 3: the unit the figures are normalised by."""
    def job() -> int:
        return sum(1 for n in range(2, 60_000) if all(n % d for d in range(2, int(n ** 0.5) + 1)))

    best = float("inf")
    for _ in range(3):
        began = time.perf_counter()
        job()
        best = min(best, time.perf_counter() - began)
    return best


def worker(variants: list[str], seed: int, method: str) -> None:
    """Grade each variant once in this process (one calibration for all); print one JSON line per check."""
    sys.path.insert(0, str(ROOT / "graders"))
    from mpgrade.course.parts import materialize
    from mpgrade.grading.direct import run_check

    order = list(variants)
    random.Random(seed).shuffle(order)
    for position, variant in enumerate(order):
        outcome = run_check(*CHECK, materialize(VARIANTS[variant]), method, seed=seed)  # whole, from a stored part
        decision = outcome.details.get("decision", {})
        print(json.dumps({"variant": variant, "status": outcome.status, "fraction": outcome.fraction,
                          "seconds": outcome.seconds, "first": position == 0,
                          "measurable": outcome.details.get("measurable"), "outcome": decision.get("outcome"),
                          "basis": outcome.details.get("basis"), "anchor": bool(decision.get("anchor_vote")),
                          "pairs": len(decision.get("pairs", [])), "engine": decision.get("engine_speedup"),
                          "votes_parallel": decision.get("votes_parallel", 0),
                          "votes_serial": decision.get("votes_serial", 0),
                          "student": decision.get("student_speedup")}), flush=True)


def run_condition(condition: str, runs: int, variants: list[str], lock_dir: Path, method: str) -> list[dict]:
    prefix = ["taskset", "-c", "0"] if condition == "pinned" else []
    load = {"half": HALF_LOAD, "hog": "while True: pass"}.get(condition)
    background = subprocess.Popen([sys.executable, "-c", load]) if load else None
    rows = []
    env = {**os.environ, "MPGRADE_LOCK_DIR": str(lock_dir / condition)}
    try:
        for run in range(runs):
            for stale in (lock_dir / condition / "mpgrade-cpu-locks").glob("calibration-*.json"):
                stale.unlink()  # every run calibrates afresh, as a new batch would
            out = subprocess.run(prefix + [sys.executable, __file__, "--worker", ",".join(variants),
                                           "--seed", str(run * 101 + 7), "--start-method", method],
                                 capture_output=True, text=True, timeout=1800, env=env)
            rows.extend(json.loads(line) for line in out.stdout.splitlines() if line.startswith("{"))
            if out.returncode != 0:
                print(out.stderr[-2000:], file=sys.stderr)
    finally:
        if background is not None:
            background.kill()
            background.wait()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--conditions", default="idle,half,hog,pinned")
    parser.add_argument("--variants", help="comma-separated (default: all)")
    parser.add_argument("--worker")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--start-method", choices=("fork", "spawn", "forkserver"))
    options = parser.parse_args()
    if options.start_method is None:
        sys.path.insert(0, str(ROOT / "graders"))
        from mpgrade.settings import DEFAULT_START_METHOD

        options.start_method = DEFAULT_START_METHOD
    if options.worker:
        worker(options.worker.split(","), options.seed, options.start_method)
        return
    variants = options.variants.split(",") if options.variants else list(VARIANTS)
    unit = reference_job()
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"{options.runs} runs per cell, check {CHECK[0]}::{CHECK[1]}, {options.start_method}; reference job {unit:.3f} s")
    print(f"{'condition':<8} {'variant':<30} {'ok?':<4} {'full':>4} {'none':>4} {'clock':>5} {'struct':>6} "
          f"{'fallbk':>6} {'pairs':>5} {'misvotes':>8} {'med s':>6} {'max s':>6} {'after cal s':>11} {'med/ref':>7} {'engine x':>8} {'student x':>9}")
    import tempfile

    with tempfile.TemporaryDirectory(prefix="mpgrade-bench-") as scratch:
        for condition in options.conditions.split(","):
            rows = run_condition(condition, options.runs, variants, Path(scratch), options.start_method)
            for variant in variants:
                mine = [r for r in rows if r["variant"] == variant]
                if not mine:
                    continue
                full = sum(r["fraction"] == 1 for r in mine)
                none = sum(r["fraction"] == 0 for r in mine)
                right = full == len(mine) if variant in CORRECT else full == 0
                seconds = [r["seconds"] for r in mine]
                later = [r["seconds"] for r in mine if not r["first"]]
                engine = [r["engine"] for r in mine if r["engine"]]
                student = [r["student"] for r in mine if r["student"]]
                wrong_side = ("votes_serial" if variant in CORRECT else
                              "votes_parallel" if variant in SERIAL_TRUTH else None)
                voted = [r for r in mine if r["votes_parallel"] + r["votes_serial"]]
                misvotes = (f"{sum(r[wrong_side] for r in voted)}/{sum(r['votes_parallel'] + r['votes_serial'] for r in voted)}"
                            if wrong_side else "-")
                basis = [r["basis"] for r in mine]
                print(f"{condition:<8} {variant:<30} {'yes' if right else 'NO':<4} {full:>4} {none:>4} "
                      f"{basis.count('measured'):>5} {basis.count('structure'):>6} {basis.count('fallback'):>6} "
                      f"{statistics.median(r['pairs'] for r in mine):>5.0f} {misvotes:>8} "
                      f"{statistics.median(seconds):>6.1f} "
                      f"{max(seconds):>6.1f} {statistics.median(later) if later else float('nan'):>11.1f} "
                      f"{statistics.median(seconds) / unit:>7.1f} "
                      f"{statistics.median(engine) if engine else 0:>8.2f} "
                      f"{statistics.median(student) if student else 0:>9.2f}", flush=True)
            every = [r for r in rows]
            if every:
                basis = [r["basis"] for r in every]
                print(f"{condition:<8} {'(all checks)':<30} {'':<4} {'':>4} {'':>4} "
                      f"{basis.count('measured') / len(every):>5.0%} {basis.count('structure') / len(every):>6.0%} "
                      f"{basis.count('fallback') / len(every):>6.0%} {'':>5} {'':>8} "
                      f"{statistics.median(r['seconds'] for r in every):>6.1f} "
                      f"{max(r['seconds'] for r in every):>6.1f} "
                      f"{statistics.median([r['seconds'] for r in every if not r['first']] or [0]):>11.1f}",
                      flush=True)


if __name__ == "__main__":
    main()
