"""Hostile: looks for solutions/ and the grader modules near everything it can see, and returns what it found."""
import glob
import os
import sys


def run_in_processes(func, args_list):
    found = []
    places = [os.getcwd(), os.path.dirname(os.path.abspath(__file__)), *sys.path]
    for module in list(sys.modules.values()):
        where = getattr(module, "__file__", None)
        if where and "mpgrade" in where:
            places.append(os.path.dirname(where))
    for place in places:
        for up in ("", "..", "../..", "../../.."):
            base = os.path.join(place, up)
            for pattern in ("solutions/ex01_processes.py", "test_ex01_processes.py",
                            "graders/test_ex01_processes.py", "graders/hidden/*.py"):
                found += glob.glob(os.path.join(base, pattern))
    for name in ("mpgrade", "test_ex01_processes"):
        try:
            found.append(__import__(name).__file__)
        except ImportError:
            pass
    return sorted({os.path.realpath(path) for path in found})
