"""Hostile: a right answer, after writing 256 MB of files into its folder (4x the battery's 64 MB limit;
bounded, never the disk)."""
import os
import tempfile
import time

CHUNK = b"x" * (16 * 2**20)


def _fill():
    folder = tempfile.mkdtemp()  # in the call's folder: TMPDIR
    for number in range(16):
        with open(os.path.join(folder, f"fill-{number}.bin"), "wb") as handle:
            handle.write(CHUNK)
        time.sleep(0.05)


def increment(counter, n):
    for _ in range(n):
        with counter.get_lock():
            counter.value += 1


def parallel_count(n_processes, n_increments):
    _fill()
    return n_processes * n_increments
