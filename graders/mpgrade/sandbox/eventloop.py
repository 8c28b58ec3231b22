"""The launcher's event loop: read the result pipe and the supervisor's verdict until it exits (grading process).

Runs in the grading process while a call runs in the sandbox. It reads two
pipes at once (the runner's framed messages may be large, and neither side
may block on a full pipe), notes when each byte of the result pipe arrived
(so the launcher can time the call from outside) and enforces the backstop
deadline: a supervisor that misbehaves is killed from here with its whole
session (``proctree.kill_session``).
"""
from __future__ import annotations

import os
import selectors
import subprocess
import time
from dataclasses import dataclass, field
from typing import Callable

from mpgrade_sandboxed import proctree

MAX_PIPE_BYTES = 16 * 1024 * 1024
TICK_S = 0.25


@dataclass
class Received:
    """What came out of the sandbox's two pipes."""

    result_bytes: bytearray = field(default_factory=bytearray)
    """The result pipe's bytes (frames; see ``protocol.read_frames``), at most MAX_PIPE_BYTES."""
    arrivals: list[tuple[int, float]] = field(default_factory=list)
    """(bytes received so far, monotonic time) after each read of the result pipe."""
    verdict_bytes: bytearray = field(default_factory=bytearray)
    """The supervisor's stdout (its verdict on the last line)."""
    overflow: bool = False
    """The result pipe carried more than MAX_PIPE_BYTES; the rest was dropped."""

    def take(self, chunk: bytes) -> bool:
        """Keep ``chunk`` of the result pipe unless it overflows; False once it did."""
        if len(self.result_bytes) + len(chunk) > MAX_PIPE_BYTES:
            self.overflow = True
            return False
        self.result_bytes += chunk
        self.arrivals.append((len(self.result_bytes), time.monotonic()))
        return True


def collect(supervisor: subprocess.Popen, read_fd: int, backstop: float,
            tick: Callable[[], None] | None = None) -> Received:
    """Read both pipes until the supervisor closes its stdout (or ``backstop``, monotonic, passes); reap it.

    Calls ``tick`` between reads, at least every ``TICK_S``. Closes ``read_fd``.
    """
    received = Received()
    selector = selectors.DefaultSelector()
    os.set_blocking(read_fd, False)
    selector.register(read_fd, selectors.EVENT_READ, "result")
    selector.register(supervisor.stdout, selectors.EVENT_READ, "verdict")
    supervisor_done = False
    try:
        while not supervisor_done:
            remaining = backstop - time.monotonic()
            if remaining <= 0:
                proctree.kill_session(supervisor.pid)
                break
            if tick is not None:
                tick()
            for key, _ in selector.select(timeout=min(remaining, TICK_S)):
                if key.data == "result":
                    try:
                        chunk = os.read(read_fd, 65536)
                    except BlockingIOError:
                        continue
                    if not chunk:
                        selector.unregister(read_fd)
                    else:
                        received.take(chunk)
                else:
                    chunk = os.read(supervisor.stdout.fileno(), 65536)
                    if chunk:
                        received.verdict_bytes += chunk
                    else:
                        supervisor_done = True
        # The runner's messages were all written before the supervisor finished.
        try:
            while chunk := os.read(read_fd, 65536):
                if not received.take(chunk):
                    break
        except BlockingIOError:
            pass
    finally:
        selector.close()
        os.close(read_fd)
        try:
            supervisor.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proctree.kill_session(supervisor.pid)
            supervisor.wait(timeout=5)
        supervisor.stdout.close()
    return received
