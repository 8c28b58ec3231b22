"""Hostile: answers only after reading a file in the grading user's home (an SSH key, a course spreadsheet)."""
import glob
import os
import pwd


def _secret():
    home = pwd.getpwuid(os.getuid()).pw_dir  # not $HOME, which the sandbox points at the call's folder
    names = os.listdir(home)  # PermissionError where the home folder is out of reach
    for name in names:
        if name.startswith(".mpgrade-battery-secret-"):
            with open(os.path.join(home, name), encoding="utf-8") as handle:
                return handle.read()
    raise PermissionError(f"no secret found in {home}")


def increment(counter, n):
    _secret()
    for _ in range(n):
        with counter.get_lock():
            counter.value += 1


def parallel_count(n_processes, n_increments):
    _secret()
    return n_processes * n_increments
