import sys

print("running the demo at import time")
sys.exit(0)


def run_in_processes(func, args_list):
    return []
