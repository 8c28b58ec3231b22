"""Hostile: raises SystemExit(0) while being imported."""
import sys

sys.exit(0)


def run_in_processes(func, args_list):
    return []
