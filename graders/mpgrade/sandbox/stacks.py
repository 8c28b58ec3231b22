"""A hung call's processes, named: the supervisor's waits joined with the witness's roles and each process's Python
stack (grading process).

Runs in the grading process, after the call (``classify``). The supervisor
read from the kernel what each live process of the call was waiting for
(``Verdict.waits``) and asked each to write its Python stack into the call's
folder (``mpgrade_sandboxed/waits.py``); the witness knows which process is
the caller, a worker the student started and with which target, a Pool
worker, a Manager's server. The stacks are written by the student's own
processes: they choose the words of the feedback, never a verdict.
"""
from __future__ import annotations

import re
from pathlib import Path

from mpgrade_sandboxed.proctree import is_helper
from mpgrade_sandboxed.protocol import Verdict
from mpgrade_sandboxed.waits import read_stack

_THREAD = re.compile(r"^(Current thread|Thread) (0x[0-9a-fA-F]+)")
_FRAME = re.compile(r'^\s+File "(.*)", line (\d+) in (.+?)\s*$')
MAX_FRAMES = 40


def parse(text: str) -> list[list[tuple[str, int, str]]]:
    """faulthandler's dump -> each thread's frames (file, line, function), innermost first; the main thread first
    (the one not started by ``threading``)."""
    threads: list[list[tuple[str, int, str]]] = []
    for line in text.splitlines():
        if _THREAD.match(line) or line.startswith("Stack (most recent call first)"):
            threads.append([])
            continue
        frame = _FRAME.match(line)
        if frame and threads and len(threads[-1]) < MAX_FRAMES:
            threads[-1].append((frame.group(1), int(frame.group(2)), frame.group(3)))
    threads = [t for t in threads if t]

    def started_by_threading(frames: list[tuple[str, int, str]]) -> bool:
        return frames[-1][0].endswith("threading.py") and frames[-1][2].startswith("_bootstrap")

    return sorted(threads, key=started_by_threading)


def hang_details(workdir: Path, verdict: Verdict) -> dict:
    """``CallResult.hang`` for a call stopped for a hang: deadlock or not, and every live process named."""
    roles = {p.get("pid"): p for p in verdict.witnessed_processes or [] if isinstance(p, dict)}
    hung = verdict.witnessed_hang or {}
    started = {p.get("pid"): p for p in hung.get("started", []) if isinstance(p, dict)}
    since = float(hung.get("case_began") or 0.0)  # processes of earlier edge cases that ended are not this hang's
    folder = workdir / "evidence" / "stacks"
    parent_of = {p.get("pid"): p.get("ppid") for p in verdict.witnessed_processes or [] if isinstance(p, dict)}
    above, pid = set(), parent_of.get(verdict.runner_pid)
    while pid in parent_of and pid not in above:  # bubblewrap's two processes: the sandbox's, not the student's
        above.add(pid)
        pid = parent_of[pid]
    commands = {w.get("pid"): str(w.get("command") or "") for w in verdict.waits or [] if isinstance(w, dict)}
    waits = []
    for wait in verdict.waits or []:
        if not isinstance(wait, dict) or not isinstance(wait.get("pid"), int) or wait["pid"] in above:
            continue
        pid = wait["pid"]
        seen = {**roles.get(pid, {}), **started.get(pid, {})}
        role = "caller" if pid == verdict.runner_pid else seen.get("role") or _unannounced(wait, commands)
        threads = parse(read_stack(str(folder), int(wait.get("own_pid") or pid))) if wait.get("asked") else []
        waits.append({"pid": pid, "role": role, "target": str(seen.get("target") or ""),
                      "state": str(wait.get("state", "")), "syscalls": list(wait.get("syscalls") or []),
                      "frames": threads[0] if threads else [], "threads": len(threads)})
    ended = [{"pid": p.get("pid"), "role": p.get("role"), "target": p.get("target", ""),
              "exitcode": p.get("exitcode")}
             for p in started.values() if p.get("pid") not in {w["pid"] for w in waits}
             and float(p.get("start") or 0.0) >= since]
    return {"deadlock": bool(verdict.deadlock), "after_s": float(verdict.elapsed_s or 0.0), "waits": waits,
            "ended": ended}


def _unannounced(wait: dict, commands: dict[int, str]) -> str:
    """The role of a process that never announced itself: multiprocessing's helper (its resource tracker, its fork
    server) by its command line, else "other"."""
    return "helper" if is_helper(str(wait.get("command") or ""), commands.get(wait.get("ppid"), "")) else "other"
