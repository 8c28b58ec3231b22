"""Hostile: writes outside its call's folder (next to its own file, in /tmp) before answering."""
import os
import tempfile


def _escape():
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "escaped.txt"), "w", encoding="utf-8") as handle:
        handle.write("written from inside the sandbox\n")
    with open(os.path.join("/tmp", f"mpgrade-battery-escaped-{os.getpid()}.txt"), "w", encoding="utf-8") as handle:
        handle.write("written from inside the sandbox\n")
    os.unlink(handle.name)


def increment(counter, n):
    _escape()
    for _ in range(n):
        with counter.get_lock():
            counter.value += 1


def parallel_count(n_processes, n_increments):
    _escape()
    return n_processes * n_increments
