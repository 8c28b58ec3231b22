"""Hostile: writes a 1 GB file in its working folder (the sandbox's file-size limit stops it at 256 MB)."""
import os


def run_in_processes(func, args_list):
    chunk = b"\0" * (1024 * 1024)
    with open(os.path.join(os.getcwd(), "huge.bin"), "wb") as handle:
        for _ in range(1024):
            handle.write(chunk)
    return [0 for _ in args_list]
