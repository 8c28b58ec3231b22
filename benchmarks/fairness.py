"""Same file, same grade: every correct variant and catalogue entry graded under each start method and seed.

    python benchmarks/fairness.py [--start-methods fork,spawn,forkserver] [--seeds 0,1,2]
                                  [--only PREFIX,...] [--jobs 2] [--set correct,mistakes] [--landlock auto|off]
                                  [--namespaces auto|off] [--load N]

The matrix that tests/test_correct_variants.py samples: each folder of
``tests/submissions/correct/`` (a correct way to write an exercise, which
must get full marks) and of ``tests/submissions/mistakes/`` (one realistic
mistake, whose score must not depend on the seed or the start method) is
graded check by check (``mpgrade.grading.direct.grade_exercise``, every check in a
sandbox, as ``mpgrade check exNN`` would) under every start method and
seed. Prints one row per entry (its scores, and what was lost where a
correct variant lost points), then the counts: correct variants below full
marks, entries whose score differs across seeds or start methods, and the
seconds it all took in units of a reference job timed in the same run, and
which correct variants had a call ended as a deadlock (``waits.DeadlockWatch``:
each would be a false deduction). ``--load N`` keeps N busy processes running
beside the grading (a loaded machine). Exit status 1 when any correct variant
lost a point, had a call ended as a deadlock, or any score varied.
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SUBMISSIONS = ROOT / "tests" / "submissions"
sys.path.insert(0, str(Path(__file__).resolve().parent))

from batch import reference_job  # noqa: E402  (a sibling benchmark)
from mpgrade.course.parts import materialize  # noqa: E402


def entries(sets: list[str], only: list[str]) -> list[tuple[str, str, Path]]:
    """(set, name, folder) for every entry of ``sets`` whose name starts with one of ``only`` (all if empty)."""
    found = []
    for kind in sets:
        for folder in sorted((SUBMISSIONS / kind).iterdir()):
            if folder.is_dir() and any(folder.glob("ex*.py")) and (not only or folder.name.startswith(tuple(only))):
                found.append((kind, folder.name, materialize(folder)))  # whole, from the stored part
    return found


def grade_one(job: tuple[str, Path, str, int, str, str]) -> tuple[float, float, dict[str, str], list[str]]:
    """Runs in a worker process of this benchmark: one entry under one start method and seed; also the functions
    whose calls this grading process saw end as a deadlock."""
    from mpgrade.grading import student as student_module
    from mpgrade.grading.direct import grade_exercise

    name, folder, method, seed, landlock, namespaces = job
    exercise = next(folder.glob("ex*.py")).stem
    outcome = grade_exercise(exercise, folder, start_method=method, seed=seed, landlock=landlock,
                             namespaces=namespaces)
    lost = {check: text.splitlines()[0][:110] if text else "" for check, text in outcome.lost().items()}
    deadlocked = sorted(target for (where, _), hangs in student_module._hangs.items()
                        if Path(where).resolve() == folder.resolve()
                        for target, hang in hangs.items() if hang.deadlock)
    return outcome.score, outcome.max_score, lost, deadlocked


def _hog(seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--start-methods", default="fork,spawn,forkserver")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--only", default="", help="entry name prefixes, comma-separated (e.g. ex04,ex07_pool)")
    parser.add_argument("--set", default="correct,mistakes", help="folders of tests/submissions/ to grade")
    parser.add_argument("--landlock", default="auto", choices=("auto", "off"),
                        help="confine student code with Landlock where it works (auto, as grading does) or not")
    parser.add_argument("--namespaces", default="auto", choices=("auto", "off"),
                        help="run student code inside bubblewrap where it works (auto, as grading does) or not")
    parser.add_argument("--jobs", type=int, default=1, help="entries graded at once (speedup checks still measure "
                                                            "alone: the machine-wide CPU lock)")
    parser.add_argument("--load", type=int, default=0, help="busy processes running beside the grading")
    args = parser.parse_args()
    methods = args.start_methods.split(",")
    seeds = [int(s) for s in args.seeds.split(",")]
    chosen = entries(args.set.split(","), [o for o in args.only.split(",") if o])
    reference = reference_job()
    import multiprocessing

    hogs = [multiprocessing.Process(target=_hog, args=(4 * 3600,), daemon=True) for _ in range(args.load)]
    for hog in hogs:
        hog.start()
    began = time.perf_counter()
    jobs = [(name, folder, method, seed, args.landlock, args.namespaces) for _, name, folder in chosen
            for method in methods for seed in seeds]
    try:
        with ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            results = dict(zip([(j[0], j[2], j[3]) for j in jobs], pool.map(grade_one, jobs)))
    finally:
        for hog in hogs:
            hog.kill()
    seconds = time.perf_counter() - began

    from mpgrade.sandbox import confinement

    print(f"machine: {os.cpu_count()} CPUs, {platform.processor() or platform.machine()}, Python "
          f"{platform.python_version()}; reference job {reference:.3f} s; "
          f"{confinement.describe(args.namespaces, args.landlock)['note']}"
          + (f"; {args.load} busy processes beside it" if args.load else ""))
    short = {"fork": "fork", "spawn": "spawn", "forkserver": "fsrv"}
    columns = [f"{short.get(m, m)}/{s}" for m in methods for s in seeds]
    print(f"{'set':9} {'entry':40} " + " ".join(f"{c:>8}" for c in columns) + "  verdict")
    below, varied, false_deadlocks = [], [], []
    for kind, name, _ in chosen:
        scores = [results[(name, m, s)] for m in methods for s in seeds]
        values = {score for score, _, _, _ in scores}
        top = scores[0][1]
        verdict = "same"
        if len(values) > 1:
            varied.append(name)
            verdict = "VARIES"
        if kind == "correct" and min(values) < top:
            below.append(name)
            verdict += ", BELOW FULL MARKS"
        deadlocked = sorted({target for _, _, _, targets in scores for target in targets})
        if kind == "correct" and deadlocked:
            false_deadlocks.append(name)
            verdict += f", ENDED AS A DEADLOCK ({', '.join(deadlocked)})"
        print(f"{kind:9} {name:40} " + " ".join(f"{score:>8g}" for score, _, _, _ in scores) + f"  {verdict}")
        if verdict != "same":
            for (score, _, lost, _), column in zip(scores, columns):
                for check, text in lost.items():
                    print(f"{'':51}{column}: {check}: {text}")
    correct = sum(1 for kind, _, _ in chosen if kind == "correct")
    print(f"\n{len(chosen)} entries x {len(methods)} start methods x {len(seeds)} seeds = {len(jobs)} gradings "
          f"in {seconds:.0f} s ({seconds / reference:.0f} reference jobs)")
    print(f"correct variants below full marks: {len(below)} of {correct}" + (f" ({', '.join(below)})" if below else ""))
    print(f"entries whose score varied: {len(varied)} of {len(chosen)}" + (f" ({', '.join(varied)})" if varied else ""))
    print(f"correct variants with a call ended as a deadlock: {len(false_deadlocks)} of {correct}"
          + (f" ({', '.join(false_deadlocks)})" if false_deadlocks else ""))
    return 1 if below or varied or false_deadlocks else 0


if __name__ == "__main__":
    raise SystemExit(main())
