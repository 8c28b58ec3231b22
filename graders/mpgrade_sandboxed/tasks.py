"""Task functions that graders hand to student code (sandbox side).

They run inside the student's worker processes, so they live in an
importable module (they must pickle under spawn and forkserver) and depend on
nothing but the standard library. Each one tells the supervisor's witness
(``witness.py``) when it starts and when it ends, waiting for its ack: the
witness takes the process, its parent, the times and the CPU from the
kernel and its own clock, and those witnessed records are what the trusted
side judges. Each also leaves the same facts as seen from inside in the
call's evidence directory (``MPGRADE_EVIDENCE_DIR``), only once the witness
has acknowledged the end (so an honest file always has a witnessed twin):
a file the witness cannot match was written by someone else. Expected
answers never come here.

Graders name them with ``mpgrade.task("name")``; only names in ``__all__``
can be asked for.
"""
from __future__ import annotations

import json
import os
import sys
import time

from mpgrade_sandboxed import witness

__all__ = ["exit_after", "square", "pause_square", "big_result", "echo_after", "double_or_fail",
           "record_pid", "burn_cpu", "slow_numbers"]

PAUSE_S = 0.1
BIG_RESULT_BYTES = 100_000

EVIDENCE_ENV = "MPGRADE_EVIDENCE_DIR"
"""Names the call's evidence folder (set by the runner; read here and by ``races`` in every student process)."""


def _begin(task: str, args: list) -> tuple[float, float]:
    """Start a task's record: the clocks as seen from inside, after the witness has seen it start."""
    started, cpu = time.time(), time.process_time()
    witness.task_mark("start", task, args)
    return started, cpu


def _record(task: str, args: list, started: float, cpu_started: float) -> None:
    witnessed = witness.task_mark("end", task, args)
    folder = os.environ.get(EVIDENCE_ENV)
    if not folder or (os.environ.get(witness.WITNESS_ENV) and not witnessed):
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
    started, cpu = _begin("exit_after", [code, seconds])
    time.sleep(seconds)
    _record("exit_after", [code, seconds], started, cpu)
    sys.stdout.flush()
    sys.exit(code)


def square(n: int) -> int:
    """Return ``n * n``."""
    started, cpu = _begin("square", [n])
    _record("square", [n], started, cpu)
    return n * n


def record_pid(tag: object = None) -> int:
    """Return the PID of the process that runs this."""
    started, cpu = _begin("record_pid", [repr(tag)])
    _record("record_pid", [repr(tag)], started, cpu)
    return os.getpid()


def burn_cpu(seconds: float) -> int:
    """Spin on the CPU for about ``seconds`` and return the loop count."""
    started, cpu = _begin("burn_cpu", [seconds])
    count = 0
    while time.process_time() - cpu < seconds:
        count += 1
    _record("burn_cpu", [seconds], started, cpu)
    return count


def pause_square(n: int) -> int:
    """Return ``n * n`` after a short pause, so that work spreads over several workers."""
    started, cpu = _begin("pause_square", [n])
    time.sleep(PAUSE_S)
    _record("pause_square", [n], started, cpu)
    return n * n


def big_result(n: int) -> str:
    """Return a 100 KB string that starts with ``n`` (fills a queue's pipe buffer)."""
    started, cpu = _begin("big_result", [n])
    _record("big_result", [n], started, cpu)
    return f"{n}:" + "x" * BIG_RESULT_BYTES


def echo_after(seconds: float) -> float:
    """Return ``seconds`` after sleeping that long (finishing order follows the argument)."""
    started, cpu = _begin("echo_after", [seconds])
    time.sleep(seconds)
    _record("echo_after", [seconds], started, cpu)
    return seconds


def double_or_fail(x: int) -> int:
    """Return ``2 * x``; raise ValueError for a negative ``x``."""
    started, cpu = _begin("double_or_fail", [x])
    _record("double_or_fail", [x], started, cpu)
    if x < 0:
        raise ValueError(f"negative input {x}")
    return 2 * x


SLOW_SQUARE_S = 0.25


class _SlowInt(int):
    """An int whose product with an int (``n * n``, ``n ** 2``) takes ``SLOW_SQUARE_S``, witnessed as task
    "slow_square": for code that squares numbers with a function of its own (ex02's ``square``), the grader
    passes these as the numbers and sees when each square ran, and where. Pickles as itself (spawn too)."""

    def __mul__(self, other: object) -> object:
        if not isinstance(other, int):
            return int(self) * other  # type: ignore[operator]
        started, cpu = _begin("slow_square", [int(self)])
        time.sleep(SLOW_SQUARE_S)
        _record("slow_square", [int(self)], started, cpu)
        return int(self) * int(other)

    __rmul__ = __mul__

    def __pow__(self, exponent: object, modulo: object = None) -> object:
        if not isinstance(exponent, int) or modulo is not None:
            return pow(int(self), exponent, modulo)  # type: ignore[arg-type]
        started, cpu = _begin("slow_square", [int(self)])
        time.sleep(SLOW_SQUARE_S)
        _record("slow_square", [int(self)], started, cpu)
        return int(self) ** int(exponent)

    def __reduce__(self) -> tuple:
        return _SlowInt, (int(self),)


slow_numbers = [_SlowInt(n) for n in (3, -1, 4, 1, -5, 9, 2, -6)]
"""Numbers (not a function): ``mpgrade.task("slow_numbers")`` is this list, whose squares each take
``SLOW_SQUARE_S`` in the process that computes them (task "slow_square", args ``[n]``)."""
