"""One machine-wide lock so that speedup measurements never share the CPU with grading work (trusted side).

Every sandboxed call holds the lock shared; a speedup check holds it
exclusively, so it waits until no other call of any grading process on this
machine (pytest-xdist workers, batch graders) is running, and none starts
until it is done. A turnstile lock keeps a stream of short calls from
starving the exclusive holder. Uses ``flock`` (Linux, macOS); elsewhere it is
a no-op.
"""
from __future__ import annotations

import os
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

_local = threading.local()


def lock_dir() -> Path:
    """Where the lock files live: ``MPGRADE_LOCK_DIR`` or the temp dir (shared by all graders here)."""
    folder = Path(os.environ.get("MPGRADE_LOCK_DIR") or tempfile.gettempdir()) / "mpgrade-cpu-locks"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@contextmanager
def _flock(name: str, mode: int) -> Iterator[None]:
    fd = os.open(lock_dir() / name, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        fcntl.flock(fd, mode)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


@contextmanager
def shared() -> Iterator[None]:
    """Held around ordinary grading work."""
    if fcntl is None or getattr(_local, "exclusive", False):
        yield
        return
    with _flock("turnstile", fcntl.LOCK_EX):
        pass
    with _flock("cpu", fcntl.LOCK_SH):
        yield


@contextmanager
def exclusive() -> Iterator[None]:
    """Held around a measurement that must have the CPUs to itself."""
    if fcntl is None or getattr(_local, "exclusive", False):
        yield
        return
    with _flock("turnstile", fcntl.LOCK_EX), _flock("cpu", fcntl.LOCK_EX):
        _local.exclusive = True
        try:
            yield
        finally:
            _local.exclusive = False
