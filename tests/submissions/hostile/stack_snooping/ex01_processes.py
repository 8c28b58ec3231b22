"""Hostile: walks the call stack and returns every list of ints it finds (hoping for the expected answer)."""
import gc
import sys


def run_in_processes(func, args_list):
    frame = sys._getframe(1)
    while frame is not None:
        for value in frame.f_locals.values():
            if isinstance(value, list) and len(value) == len(args_list) and all(isinstance(v, int) for v in value):
                return value
        frame = frame.f_back
    for obj in gc.get_objects():
        if isinstance(obj, list) and len(obj) == len(args_list) and obj and all(type(v) is int for v in obj):
            return obj
    return []
