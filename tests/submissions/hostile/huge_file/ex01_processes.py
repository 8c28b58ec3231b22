"""Hostile: writes a 1 GB file next to itself (the sandbox's file-size limit stops it at 256 MB)."""
import os


def run_in_processes(func, args_list):
    chunk = b"\0" * (1024 * 1024)
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "huge.bin"), "wb") as handle:
        for _ in range(1024):
            handle.write(chunk)
    return [0 for _ in args_list]
