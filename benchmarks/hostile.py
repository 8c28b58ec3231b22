"""The hostile battery as a table: every broken or malicious submission, its verdict, time and leftovers.

    python benchmarks/hostile.py [--cases fork_bomb,memory_growth,...]

Runs each case of tests/submissions/hostile/battery.py (the same cases the
kit's tests run) and prints: case, expected and actual verdict, seconds,
processes of the case still alive afterwards, entries it left in /dev/shm,
and whether the row is right (verdict, the cause named in the feedback, no
file a daemon should not have written, no traceback). Target: every row
right, 0 processes, 0 entries, the whole battery in under 3 minutes on a
2-core machine.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BATTERY = ROOT / "tests" / "submissions" / "hostile" / "battery.py"


def load_battery():
    spec = importlib.util.spec_from_file_location("hostile_battery", BATTERY)
    module = importlib.util.module_from_spec(spec)
    sys.modules["hostile_battery"] = module
    spec.loader.exec_module(module)
    return module


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", default="", help="comma-separated case names (default: all)")
    parser.add_argument("--namespaces", choices=("auto", "off"), default="auto",
                        help="auto: inside bubblewrap where it works (as grading does); off: process-level only")
    options = parser.parse_args()
    battery = load_battery()
    cases = battery.CASES
    if options.cases:
        wanted = set(options.cases.split(","))
        cases = tuple(case for case in cases if case.name in wanted)
    sys.path.insert(0, str(ROOT / "graders"))
    from mpgrade.sandbox.namespaces import environment_note

    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"{len(cases)} cases; {environment_note(options.namespaces)}")
    print(f"{'case':<30} {'expected':<13} {'verdict':<13} {'seconds':>7} {'procs left':>10} {'shm left':>8}  right")
    began = time.monotonic()
    rows = []
    for case in cases:
        row = battery.run_all((case,), options.namespaces)[0]
        rows.append(row)
        print(f"{row.case:<30} {row.expected:<13} {row.verdict:<13} {row.seconds:>7.1f} {row.processes_left:>10} "
              f"{len(row.shm_left):>8}  {'yes' if row.ok else 'NO: ' + '; '.join(row.problems)}", flush=True)
    total = time.monotonic() - began
    right = sum(row.ok for row in rows)
    print(f"{right}/{len(rows)} rows right; {sum(r.processes_left for r in rows)} processes and "
          f"{sum(len(r.shm_left) for r in rows)} /dev/shm entries left; battery {total:.0f} s")


if __name__ == "__main__":
    main()
