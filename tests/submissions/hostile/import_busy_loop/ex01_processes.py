"""Hostile: a busy loop at import (ends by itself after 10 minutes)."""
import time

END = time.monotonic() + 600
while time.monotonic() < END:
    pass


def run_in_processes(func, args_list):
    return [0 for _ in args_list]
