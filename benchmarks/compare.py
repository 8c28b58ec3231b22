"""What a change costs the sandbox: trivial calls of two commits, interleaved in one run.

    python benchmarks/compare.py OLD [NEW] [--rounds N] [--calls K] [--namespaces auto|off] [--landlock off,auto]

Timing on a shared machine is noisy, so comparing two separate runs of
``benchmarks/sandbox.py`` says little. This exports both commits (``git
archive``; NEW defaults to the working tree), then for each round and each
start method runs K trivial calls (``run_call`` of a function that returns 1:
interpreter start, import, call, tree reaped) with one commit, then K with
the other, alternating which goes first, each in a fresh grading process
importing that commit's engine. It prints the median per commit and method
and the ratio NEW/OLD of the medians, the figure to judge. What confinement
costs: ``compare.py WORKTREE WORKTREE --landlock off,auto``.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

KIT = Path(__file__).resolve().parent.parent
PROBE = r"""
import json, sys, tempfile, time
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from mpgrade import CallRequest, run_call
folder = Path(tempfile.mkdtemp())
(folder / "bench.py").write_text("def nothing():\n    return 1\n")
times = []
for _ in range(int(sys.argv[3])):
    began = time.perf_counter()
    extra = {"landlock": sys.argv[5]} if sys.argv[5] else {}  # older commits have no Landlock setting
    result = run_call(CallRequest(folder, "bench", "nothing", start_method=sys.argv[2], namespaces=sys.argv[4],
                                  **extra))
    assert result.status == "returned", result.status
    times.append(time.perf_counter() - began)
print(json.dumps(times))
"""


def export(commit: str, into: Path) -> Path:
    """The tree of ``commit`` under ``into`` (the working tree itself for "WORKTREE")."""
    if commit == "WORKTREE":
        return KIT
    archive = into / f"{commit}.tar"
    subprocess.run(["git", "-C", str(KIT), "archive", "-o", str(archive), commit], check=True)
    tree = into / commit
    with tarfile.open(archive) as tarred:
        tarred.extractall(tree)
    return tree


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("old")
    parser.add_argument("new", nargs="?", default="WORKTREE")
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--calls", type=int, default=5)
    parser.add_argument("--namespaces", choices=("auto", "off"), default="auto")
    parser.add_argument("--landlock", default="",
                        help="OLD_SETTING,NEW_SETTING for Landlock, e.g. off,auto (with OLD = NEW = WORKTREE: what "
                             "confinement costs); default: each commit's own default")
    options = parser.parse_args()
    landlock = dict(zip(("old", "new"), options.landlock.split(","))) if options.landlock else {}
    methods = ["fork", "spawn", "forkserver"]
    samples: dict[tuple[str, str], list[float]] = {}
    with tempfile.TemporaryDirectory() as folder:
        trees = {"old": export(options.old, Path(folder)), "new": export(options.new, Path(folder))}
        for round_ in range(options.rounds):
            order = ["old", "new"] if round_ % 2 == 0 else ["new", "old"]
            for method in methods:
                for which in order:
                    done = subprocess.run([sys.executable, "-c", PROBE, str(trees[which] / "graders"), method,
                                           str(options.calls), options.namespaces, landlock.get(which, "")],
                                          capture_output=True, text=True, check=True)
                    samples.setdefault((which, method), []).extend(json.loads(done.stdout.splitlines()[-1]))
    print(f"old {options.old}, new {options.new}: {options.rounds} rounds x {options.calls} trivial calls "
          f"per commit and start method, interleaved (namespaces {options.namespaces}"
          + (f", Landlock old {landlock['old']}, new {landlock['new']})" if landlock else ")"))
    print(f"{'start method':<13} {'old median':>11} {'new median':>11} {'new/old':>8}")
    ratios = []
    for method in methods:
        old, new = (statistics.median(samples[(which, method)]) for which in ("old", "new"))
        ratios.append(new / old)
        print(f"{method:<13} {old:>10.4f}s {new:>10.4f}s {new / old:>8.3f}")
    print(f"{'all':<13} {'':>11} {'':>11} {statistics.median(ratios):>8.3f}  (median of the ratios)")


if __name__ == "__main__":
    main()
