"""How much a call has written: its own folder and /dev/shm together (run by the supervisor's watchdog).

A call may write files in its folder (its ``cwd``, ``TMPDIR`` and ``HOME``)
and SharedMemory blocks and semaphores in ``/dev/shm`` (memory, not disk).
``RLIMIT_FSIZE`` caps each file; nothing else caps the sum, so one
submission could fill the instructor's disk or memory while the class is
graded. The supervisor's watchdog asks this meter every round and stops the
call past ``max_written_mb``, as it does for memory. Where the call has a
cgroup its memory cap also counts /dev/shm pages (the kernel's backstop).

What is counted is what the files take (allocated blocks, not their
apparent size: a SharedMemory block of 256 MB no process has touched takes
nothing yet):

- every file under the call's folder;
- every entry of the call's ``/dev/shm`` that appeared since the call began.
  Inside bubblewrap that is the call's own tmpfs (read through
  ``/proc/RUNNER/root``). Outside it ``/dev/shm`` is shared with other calls
  running at the same time: only when the total is over the limit are
  entries another live process holds (mapped or open) and no process of
  this call does left out. An entry nobody holds is charged to the call:
  outside a namespace it cannot be told from a neighbour's leak.
"""
from __future__ import annotations

import os
from typing import Callable, Iterable

MAX_ENTRIES = 100_000
"""More files than this in a call's folder is itself over the limit (the walk must stay cheap)."""


class TooManyFiles(Exception):
    """The call's folder holds more than ``MAX_ENTRIES`` files."""


def folder_bytes(folder: str) -> int:
    """Bytes allocated to the files under ``folder`` (not following links); ``TooManyFiles`` past MAX_ENTRIES."""
    total, seen, stack = 0, 0, [folder]
    while stack:
        try:
            entries = os.scandir(stack.pop())
        except OSError:
            continue
        with entries:
            for entry in entries:
                seen += 1
                if seen > MAX_ENTRIES:
                    raise TooManyFiles(folder)
                try:
                    if entry.is_dir(follow_symlinks=False):
                        stack.append(entry.path)
                    else:
                        total += entry.stat(follow_symlinks=False).st_blocks * 512
                except OSError:
                    continue
    return total


class WriteMeter:
    """Counts what one call has written (see the module docstring)."""

    def __init__(self, call_dir: str, shm_before: set[str], holding: Callable[..., set[int]]) -> None:
        self.call_dir = call_dir
        self.shm_before = shm_before
        self.holding = holding
        self.peak = 0

    def written(self, shm_dir: str, call_pids: Iterable[int], limit: int) -> int:
        """Bytes written so far; entries held only outside the call are left out once the total passes ``limit``."""
        try:
            total = folder_bytes(self.call_dir)
        except TooManyFiles:
            total = limit + 1
        new: dict[int, int] = {}
        try:
            with os.scandir(shm_dir) as entries:
                for entry in entries:
                    if entry.name in self.shm_before:
                        continue
                    try:
                        stat = entry.stat(follow_symlinks=False)
                    except OSError:
                        continue
                    new[stat.st_ino] = stat.st_blocks * 512
        except OSError:
            pass
        shm = sum(new.values())
        if total + shm > limit and new and shm_dir == "/dev/shm":  # shared with other calls: leave theirs out
            pids = set(call_pids)
            ours = self.holding(set(new), skip=frozenset(self._others(pids)))
            theirs = self.holding(set(new), skip=frozenset(pids)) - ours
            shm = sum(size for inode, size in new.items() if inode not in theirs)
        total += shm
        self.peak = max(self.peak, total)
        return total

    @staticmethod
    def _others(pids: set[int]) -> set[int]:
        """Every live PID but ``pids`` (so ``holding`` looks at the call's processes only)."""
        return {int(name) for name in os.listdir("/proc") if name.isdigit() and int(name) not in pids}
