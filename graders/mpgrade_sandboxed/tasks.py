"""Task functions that graders hand to student code (sandbox side).

They run inside the student's worker processes, so they live in an
importable module (they must pickle under spawn and forkserver) and depend on
nothing but the standard library. Each one leaves a small evidence record in
the call's evidence directory (``MPGRADE_EVIDENCE_DIR``): which process ran it,
under which parent, from when to when, with how much CPU. The trusted side
reads these records to judge where and when the work really ran; expected
answers never come here.

Graders name them with ``mpgrade.task("name")``; only names in ``__all__``
can be asked for.
"""
from __future__ import annotations

import json
import os
import sys
import time

__all__ = ["exit_after", "square", "pause_square", "big_result", "echo_after", "double_or_fail",
           "record_pid", "burn_cpu"]

PAUSE_S = 0.1
BIG_RESULT_BYTES = 100_000

EVIDENCE_ENV = "MPGRADE_EVIDENCE_DIR"
"""Names the call's evidence folder (set by the runner; read here and by ``races`` in every student process)."""


def _record(task: str, args: list, started: float, cpu_started: float) -> None:
    folder = os.environ.get(EVIDENCE_ENV)
    if not folder:
        return
    record = {
        "task": task,
        "args": args,
        "pid": os.getpid(),
        "ppid": os.getppid(),
        "start": started,
        "end": time.time(),
        "cpu_s": time.process_time() - cpu_started,
    }
    name = f"{task}-{os.getpid()}-{time.monotonic_ns()}.json"
    tmp = os.path.join(folder, "." + name)
    try:
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump(record, handle)
        os.replace(tmp, os.path.join(folder, name))
    except OSError:
        pass  # evidence is best effort; a missing record fails a check, not the run


def exit_after(code: int, seconds: float = 0.0) -> None:
    """Sleep ``seconds`` then end this process with exit code ``code``."""
    started, cpu = time.time(), time.process_time()
    time.sleep(seconds)
    _record("exit_after", [code, seconds], started, cpu)
    sys.stdout.flush()
    sys.exit(code)


def square(n: int) -> int:
    """Return ``n * n``."""
    started, cpu = time.time(), time.process_time()
    _record("square", [n], started, cpu)
    return n * n


def record_pid(tag: object = None) -> int:
    """Return the PID of the process that runs this."""
    started, cpu = time.time(), time.process_time()
    _record("record_pid", [repr(tag)], started, cpu)
    return os.getpid()


def burn_cpu(seconds: float) -> int:
    """Spin on the CPU for about ``seconds`` and return the loop count."""
    started, cpu = time.time(), time.process_time()
    count = 0
    while time.process_time() - cpu < seconds:
        count += 1
    _record("burn_cpu", [seconds], started, cpu)
    return count


def pause_square(n: int) -> int:
    """Return ``n * n`` after a short pause, so that work spreads over several workers."""
    started, cpu = time.time(), time.process_time()
    time.sleep(PAUSE_S)
    _record("pause_square", [n], started, cpu)
    return n * n


def big_result(n: int) -> str:
    """Return a 100 KB string that starts with ``n`` (fills a queue's pipe buffer)."""
    started, cpu = time.time(), time.process_time()
    _record("big_result", [n], started, cpu)
    return f"{n}:" + "x" * BIG_RESULT_BYTES


def echo_after(seconds: float) -> float:
    """Return ``seconds`` after sleeping that long (finishing order follows the argument)."""
    started, cpu = time.time(), time.process_time()
    time.sleep(seconds)
    _record("echo_after", [seconds], started, cpu)
    return seconds


def double_or_fail(x: int) -> int:
    """Return ``2 * x``; raise ValueError for a negative ``x``."""
    started, cpu = time.time(), time.process_time()
    _record("double_or_fail", [x], started, cpu)
    if x < 0:
        raise ValueError(f"negative input {x}")
    return 2 * x
