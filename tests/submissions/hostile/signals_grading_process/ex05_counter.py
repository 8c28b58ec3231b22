"""Hostile: signals every ancestor outside its own session (the supervisor, the grading process) before
answering. SIGWINCH, which they ignore, so the battery stays bounded even where it is delivered."""
import os
import re
import signal


def _signal_ancestors():
    pid = os.getppid()
    while pid > 1:
        os.kill(pid, signal.SIGWINCH)  # PermissionError where signals outside the call are refused
        with open(f"/proc/{pid}/status", encoding="utf-8") as handle:
            pid = int(re.search(r"PPid:\s+(\d+)", handle.read()).group(1))


def increment(counter, n):
    _signal_ancestors()
    for _ in range(n):
        with counter.get_lock():
            counter.value += 1


def parallel_count(n_processes, n_increments):
    _signal_ancestors()
    return n_processes * n_increments
