"""Where a grading's CPU goes: every process it ran, by role, from the kernel's process accounting.

    python benchmarks/cpu_by_process.py [--start-method forkserver] [-n 2] [--submission solutions] [--runs 2]

Runs ``mpgrade check`` on a whole submission with BSD process accounting
switched on (``accton``, from Debian's ``acct``; root only) and sorts every
process that ended into a role by its place in the tree:

    grading      mpgrade, the pytest controller and its xdist workers
    template     the sandbox template (one per grading process)
    supervisor   one per sandboxed call, forked from the template
    bwrap        bubblewrap's two processes per call (setup, PID 1 of the namespace)
    runner       the fresh interpreter that imports the student's module and calls it
    student      everything the runner started, in three kinds: a fork server (a fresh
                 interpreter whose children are forked), forked (fork's children, a fork
                 server's workers: no exec) and fresh interpreters (spawn's children,
                 resource trackers, Manager servers under spawn or forkserver)

Accounting records a process when it exits, with its own CPU (not its
children's), so the roles add up to the whole. Prints CPU seconds per role,
the count, the mean per process, in units of the reference job timed in the
same run, and the share of the total. Run it on an otherwise idle machine.
"""
from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from batch import machine_busy_s, reference_job  # noqa: E402  (a sibling benchmark)

ROLES = ("grading", "template", "supervisor", "bwrap", "runner", "student: fork server", "student: forked",
         "student: fresh interpreter")


def read_accounting(path: str) -> dict[int, dict]:
    """pid -> {comm, cpu_s, ppid} from an acct file (``dump-acct``'s fields: comm|ver|utime|stime|...|pid|ppid)."""
    text = subprocess.run(["dump-acct", path], capture_output=True, text=True, check=True).stdout
    processes = {}
    for line in text.splitlines():
        fields = [field.strip() for field in line.split("|")]
        if len(fields) < 11:
            continue
        processes[int(fields[9])] = {"comm": fields[0], "cpu_s": (float(fields[2]) + float(fields[3])) / 100,
                                      "ppid": int(fields[10]), "forked": "F" in fields[11]}
    return processes


def roles(processes: dict[int, dict]) -> dict[int, str]:
    """Each process's role, from its place in the tree (see the module docstring)."""
    children: dict[int, list[int]] = defaultdict(list)
    for pid, process in processes.items():
        children[process["ppid"]].append(pid)
    found: dict[int, str] = {}
    below_bwrap = {process["ppid"] for process in processes.values()
                   if process["comm"] == "bwrap" and processes.get(process["ppid"], {}).get("comm") != "bwrap"}
    # Forked from the template without exec ("F"); a grading process also starts one bwrap itself (the
    # namespace probe), so being a bwrap's parent is not enough where supervisors are forked.
    supervisors = {pid for pid in below_bwrap if processes.get(pid, {}).get("forked")} or below_bwrap
    templates = {processes[s]["ppid"] for s in supervisors if s in processes}

    def mark_below(pid: int, role: str) -> None:
        for child in children.get(pid, ()):
            found.setdefault(child, role)
            mark_below(child, role)

    for pid, process in processes.items():
        if process["comm"] == "bwrap" and process["ppid"] not in supervisors and \
                processes.get(process["ppid"], {}).get("comm") != "bwrap":  # the grading process's probe
            found[pid] = "grading"
            mark_below(pid, "grading")
    for pid, process in processes.items():
        if process["comm"] == "bwrap" and pid not in found:
            found[pid] = "bwrap"
            # The runner is the first process bwrap's PID 1 starts; orphans of the call re-parent to it later.
            started = sorted(c for c in children.get(pid, ()) if processes[c]["comm"] != "bwrap")
            if started:
                found[started[0]] = "runner"
                mark_below(started[0], "student")
                for orphan in started[1:]:
                    found[orphan] = "student"
                    mark_below(orphan, "student")
    for pid in supervisors:
        found.setdefault(pid, "supervisor")
        for child in children.get(pid, ()):  # orphans re-parented to the supervisor (a subreaper)
            if processes[child]["comm"] != "bwrap":
                found.setdefault(child, "student")
                mark_below(child, "student")
    for pid in templates:
        found.setdefault(pid, "template")
    for pid, role in list(found.items()):
        if role == "student":
            found[pid] = _student_kind(pid, processes, children)
    return {pid: found.get(pid, "grading") for pid in processes}


def _student_kind(pid: int, processes: dict[int, dict], children: dict[int, list[int]]) -> str:
    """A student-side process: forked without exec (fork's children, a fork server's workers), a fork server
    (a fresh interpreter whose children are forked), or another fresh interpreter (spawn's children, resource
    trackers, a Manager's server under spawn or forkserver)."""
    if processes[pid]["forked"]:
        return "student: forked"
    if any(processes[child]["forked"] for child in children.get(pid, ())):
        return "student: fork server"
    return "student: fresh interpreter"


def profile(command: list[str]) -> tuple[float, float, dict[str, list[float]]]:
    """Wall seconds of ``command``, the machine's busy CPU seconds meanwhile, and each process's CPU by role."""
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "pacct")
        Path(path).touch()
        subprocess.run(["accton", path], check=True)
        try:
            began, busy = time.perf_counter(), machine_busy_s()
            subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
            wall, busy = time.perf_counter() - began, machine_busy_s() - busy
            time.sleep(2)  # the template outlives its grading process by a moment
        finally:
            subprocess.run(["accton", "off"], check=True)
        processes = read_accounting(path)
    by_role: dict[str, list[float]] = defaultdict(list)
    for pid, role in roles(processes).items():
        by_role[role].append(processes[pid]["cpu_s"])
    return wall, busy, by_role


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--submission", default="solutions")
    parser.add_argument("--start-method", default=None, help="default: the kit's")
    parser.add_argument("-n", "--workers", default=None, help="mpgrade check -n (default: the kit's)")
    parser.add_argument("--runs", type=int, default=2)
    options = parser.parse_args()
    if os.geteuid() != 0 or not shutil.which("accton") or not shutil.which("dump-acct"):
        sys.exit("needs root and process accounting (Debian: apt-get install acct)")
    command = [sys.executable, "-m", "mpgrade", "check", "--submission", str(ROOT / options.submission)]
    if options.start_method:
        command += ["--start-method", options.start_method]
    if options.workers:
        command += ["-n", options.workers]
    unit = reference_job()
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}; "
          f"reference job {unit:.3f} s; {' '.join(command[2:])}")
    for run in range(options.runs):
        wall, busy, by_role = profile(command)
        total = sum(sum(values) for values in by_role.values())
        print(f"run {run + 1}: wall {wall:.1f} s, machine busy {busy:.1f} CPU s ({busy / unit:.0f} ref, "
              f"{busy / wall:.2f} CPUs); accounted to processes {total:.1f} s (the rest: the kernel's own work "
              "for them, e.g. namespaces and page tables, and records the kernel dropped)")
        print(f"  {'role':<27} {'CPU s':>7} {'ref':>6} {'share':>6} {'processes':>9} {'ms each':>8}")
        for role in ROLES:
            values = by_role.get(role, [])
            cpu = sum(values)
            each = f"{cpu / len(values) * 1000:.0f}" if values else "-"
            print(f"  {role:<27} {cpu:>7.1f} {cpu / unit:>6.0f} {cpu / total:>6.0%} {len(values):>9} {each:>8}")


if __name__ == "__main__":
    main()
