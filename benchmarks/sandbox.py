"""Cost of the sandbox: time per call, and how soon a hanging call is cleaned up.

    python benchmarks/sandbox.py [--rounds N]

Prints a table: for each start method, the median and 90th percentile wall
time of a trivial call (interpreter start, import, call, tree reaped), of a
call that starts 4 processes, and the overshoot past the time limit of a
call that hangs with a setsid'd grandchild. Runs are interleaved across
start methods so background load hits them alike.
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import textwrap
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "graders"))

from mpgrade import CallRequest, run_call, task  # noqa: E402

MODULE = textwrap.dedent("""
    import multiprocessing, os, time

    def nothing():
        return 1

    def four(func):
        ps = [multiprocessing.Process(target=func, args=(0,)) for _ in range(4)]
        for p in ps:
            p.start()
        for p in ps:
            p.join()
        return [p.exitcode for p in ps]

    def _escape():
        if os.fork() == 0:
            os.setsid()
            time.sleep(600)
            os._exit(0)
        time.sleep(600)

    def hang():
        multiprocessing.Process(target=_escape).start()
        time.sleep(600)
""")
LIMIT_S = 2.0


NAMESPACES = "auto"


def timed(folder: Path, target: str, method: str, *args) -> tuple[float, str]:
    began = time.perf_counter()
    result = run_call(CallRequest(folder, "bench", target, args=args, start_method=method,
                                  timeout_s=LIMIT_S if target == "hang" else 30, namespaces=NAMESPACES))
    return time.perf_counter() - began, result.status


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--namespaces", choices=("auto", "off"), default="auto",
                        help="auto: inside bubblewrap where it works (as grading does); off: process-level only")
    options = parser.parse_args()
    global NAMESPACES
    NAMESPACES = options.namespaces
    from mpgrade.sandbox.namespaces import environment_note

    print(environment_note(options.namespaces))
    methods = ["fork", "spawn", "forkserver"]
    samples: dict[tuple[str, str], list[float]] = {}
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "bench.py").write_text(MODULE)
        for round_ in range(options.rounds):
            for method in methods:
                for target, args in (("nothing", ()), ("four", (task("exit_after"),))):
                    seconds, status = timed(Path(folder), target, method, *args)
                    assert status == "returned", status
                    samples.setdefault((method, target), []).append(seconds)
                if round_ < max(3, options.rounds // 3):
                    seconds, status = timed(Path(folder), "hang", method)
                    assert status == "timeout", status
                    samples.setdefault((method, "hang"), []).append(seconds - LIMIT_S)

    def p90(values: list[float]) -> float:
        return sorted(values)[max(0, int(len(values) * 0.9) - 1)]

    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"{options.rounds} rounds")
    print(f"{'start method':<13} {'trivial call':>16} {'4 processes':>16} {'hang: past limit':>18}")
    for method in methods:
        cells = []
        for target in ("nothing", "four", "hang"):
            values = samples[(method, target)]
            cells.append(f"{statistics.median(values):.3f} / {p90(values):.3f}")
        print(f"{method:<13} {cells[0]:>16} {cells[1]:>16} {cells[2]:>18}")
    print("cells: median / p90 seconds; 'hang' is time beyond the 2 s limit until every process is gone")


if __name__ == "__main__":
    main()
