"""The floor under a submission's grading cost: what its sandboxed calls cost before any student work.

    python benchmarks/floor.py [--rounds 3] [--calls 12] [--submission solutions] [--class-size 40]
                               [--namespaces auto|off]

The budget is a class of 40 in 6 minutes on 2 cores, 9 s (18 CPU
seconds) a submission. Each check runs student code in fresh sandboxed
calls (supervisor, bubblewrap, runner interpreter; under forkserver or spawn
a call that starts processes also starts a fork server or spawn children and
a resource tracker), so a submission's CPU has a floor that depends only on
how many calls its checks make and of which kind. This measures, in one run:

1. the submission: ``pytest graders/ -n 0`` on it (one grading process, as
   ``mpgrade grade`` runs each student), with a plugin that records every
   sandboxed call: its kind, start method and whether it started processes;
   the machine's busy CPU seconds (``/proc/stat``), best of ``--rounds``;
2. per call kind, in rounds interleaved with (1): the busy CPU of
   ``--calls`` calls that do nothing (a function returning 1; a script
   whose ``__main__`` block does nothing) and of calls that start a
   Pool of 2 and map 4 trivial tasks (per start method);
3. the floor: each recorded call priced at its kind's figure, plus the
   grading process's start-up (pytest collecting the graders), against the
   submission's measured CPU; then a class: ``--class-size`` such
   submissions on 2 fully used CPUs, against the budget.

Figures also in units of the reference job (a fixed pure-Python prime
count, best of 3) timed before and after, so machines compare. Run it on an
otherwise idle machine: busy CPU counts everything running.
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
import textwrap
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(ROOT / "graders"))

from batch import machine_busy_s, reference_job  # noqa: E402  (a sibling benchmark)

BUDGET_CLASS_S = 360.0
CPUS = 2

RECORDER = '''
"""pytest plugin (benchmarks/floor.py): append one JSON line per sandboxed call."""
import json, os
from mpgrade.grading import student
_run = student.run_call

def recording(request):
    result = _run(request)
    started = result.supervision.get("peak_processes", 0) > BASELINE
    with open(os.environ["FLOOR_LOG"], "a", encoding="utf-8") as log:
        log.write(json.dumps({"kind": request.kind, "start_method": request.start_method,
                              "started": started}) + "\\n")
    return result

student.run_call = recording
'''

PROBE_MODULE = textwrap.dedent('''
    import multiprocessing

    def nothing():
        return 1

    def square(x):
        return x * x

    def pool():
        with multiprocessing.Pool(2) as workers:
            return workers.map(square, range(4))

    if __name__ == "__main__":
        pass
''')


def busy_of(action, count: int) -> float:
    """Busy CPU seconds of the machine per call while ``action`` runs ``count`` times."""
    began = machine_busy_s()
    for _ in range(count):
        action()
    return (machine_busy_s() - began) / count


def baseline_processes(folder: Path, namespaces: str) -> int:
    """Peak processes of a call that starts none (the runner, and bwrap's two where it is used)."""
    from mpgrade import CallRequest, run_call

    request = CallRequest(folder, "probe", "nothing", start_method="fork", namespaces=namespaces)
    return run_call(request).supervision["peak_processes"]


def price_kinds(folder: Path, calls: int, namespaces: str) -> dict[tuple[str, bool], float]:
    """Busy CPU seconds per call: (start method, starts processes) for functions, ("script", False) for a script."""
    from mpgrade import CallRequest, run_call

    def call(target: str, start_method: str, kind: str = "function"):
        def run() -> None:
            result = run_call(CallRequest(folder, "probe", target, kind=kind, start_method=start_method,
                                          namespaces=namespaces))
            assert result.status == "returned", (target, kind, result.status, result.error)
        return run

    prices = {}
    for method in ("fork", "forkserver", "spawn"):
        prices[(method, False)] = busy_of(call("nothing", method), calls)
        prices[(method, True)] = busy_of(call("pool", method), calls)
    prices[("script", False)] = busy_of(call("probe", "spawn", "script"), calls)
    return prices


def grade_submission(submission: Path, log: Path, plugin_dir: Path, namespaces: str) -> float:
    """Busy CPU seconds of one grading process grading ``submission``; its calls are appended to ``log``."""
    env = {**os.environ, "FLOOR_LOG": str(log), "MPGRADE_NAMESPACES": namespaces,
           "PYTHONPATH": os.pathsep.join([str(ROOT / "graders"), str(plugin_dir)])}
    command = [sys.executable, "-m", "pytest", "graders/", "-p", "floor_recorder", "-p", "no:cacheprovider", "-q",
               "--no-header", "--submission", str(submission), "-c", "pyproject.toml", "-n", "0"]
    began = machine_busy_s()
    subprocess.run(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return machine_busy_s() - began


def startup_cost(submission: Path) -> float:
    """Busy CPU seconds of a grading process that only starts and collects the graders."""
    command = [sys.executable, "-m", "pytest", "graders/", "-p", "no:cacheprovider", "-q", "--no-header",
               "--submission", str(submission), "-c", "pyproject.toml", "-n", "0", "--collect-only"]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "graders")}
    began = machine_busy_s()
    subprocess.run(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return machine_busy_s() - began


def kind_of(call: dict) -> tuple[str, bool]:
    """The probe whose price stands for this call (a guard's script or __mp_main__ import: the script probe)."""
    if call["kind"] in ("script", "mp_main_import"):
        return ("script", False) if not call["started"] else (call["start_method"], True)
    return call["start_method"], call["started"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--calls", type=int, default=12)
    parser.add_argument("--submission", default="solutions")
    parser.add_argument("--class-size", type=int, default=40)
    parser.add_argument("--namespaces", default="auto", choices=["auto", "off"],
                        help="off: no bubblewrap, so runners are forked warm (MPGRADE_WARM_START=off: fresh)")
    options = parser.parse_args()
    submission = (ROOT / options.submission).resolve()
    unit_before = reference_job()
    with tempfile.TemporaryDirectory(prefix="mpgrade-floor-") as scratch:
        scratch_path = Path(scratch)
        probe_folder = scratch_path / "probe"
        probe_folder.mkdir()
        (probe_folder / "probe.py").write_text(PROBE_MODULE, encoding="utf-8")
        plugin_dir = scratch_path / "plugin"
        plugin_dir.mkdir()
        baseline = baseline_processes(probe_folder, options.namespaces)
        (plugin_dir / "floor_recorder.py").write_text(RECORDER.replace("BASELINE", str(baseline)), encoding="utf-8")
        graded, prices_by_round, startups, calls = [], [], [], []
        for round_ in range(options.rounds):
            log = scratch_path / f"calls-{round_}.jsonl"
            steps = [lambda: graded.append(grade_submission(submission, log, plugin_dir, options.namespaces)),
                     lambda: prices_by_round.append(price_kinds(probe_folder, options.calls, options.namespaces)),
                     lambda: startups.append(startup_cost(submission))]
            for step in (steps if round_ % 2 == 0 else steps[::-1]):
                step()
            calls = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    unit = (unit_before + reference_job()) / 2
    prices = {key: statistics.median(r[key] for r in prices_by_round) for key in prices_by_round[0]}
    startup = statistics.median(startups)
    measured = min(graded)
    counted = Counter(kind_of(call) for call in calls)

    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}; reference job "
          f"{unit:.3f} s (mean of before/after: {unit_before:.3f} s before); submission {options.submission}; "
          f"namespaces {options.namespaces}, warm start {os.environ.get('MPGRADE_WARM_START', 'on')}; "
          f"{options.rounds} rounds, {options.calls} probe calls per kind and round (median)")
    print()
    print("| a call that ... | calls in the submission | busy CPU s each | ref each | CPU s in the submission |")
    print("|---|---|---|---|---|")
    floor = 0.0
    names = {("script", False): "runs a script that starts nothing (guard runs)"}
    for key in sorted(prices, key=lambda k: (k[0] == "script", k)):
        method, started = key
        name = names.get(key) or (f"starts a Pool of 2 ({method})" if started else f"starts nothing ({method})")
        count = counted.get(key, 0)
        floor += count * prices[key]
        print(f"| {name} | {count} | {prices[key]:.3f} | {prices[key] / unit:.2f} | {count * prices[key]:.1f} |")
    floor += startup
    print(f"| grading process start-up (pytest, collecting the graders) | 1 | {startup:.2f} | {startup / unit:.1f} | "
          f"{startup:.1f} |")
    total_calls = sum(counted.values())
    print()
    print(f"calls: {total_calls}; floor (the calls as probes + start-up): {floor:.1f} CPU s ({floor / unit:.0f} ref); "
          f"measured: {measured:.1f} CPU s ({measured / unit:.0f} ref, best of {len(graded)}: "
          f"{', '.join(f'{g:.1f}' for g in graded)}); the floor is {floor / measured:.0%} of it")
    for name, cpu in (("floor", floor), ("measured", measured)):
        seconds = options.class_size * cpu / CPUS
        print(f"class of {options.class_size} on {CPUS} fully used CPUs at the {name}: {seconds:.0f} s "
              f"({seconds / unit:.0f} ref) against the budget's {BUDGET_CLASS_S:.0f} s")


if __name__ == "__main__":
    main()
