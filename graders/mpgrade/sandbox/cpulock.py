"""Who may use which CPUs: speedup measurements get CPUs to themselves, other grading the rest (trusted side).

Every sandboxed call and every speedup measurement of every grading process
on this machine (pytest-xdist workers, batch graders) goes through here;
this module is the only owner of the lock files in ``lock_dir()``:

    turnstile   EX briefly by everyone, held by a measurement while it takes its CPUs
                (so a stream of short calls cannot starve it)
    cpu         SH by every call; EX by a measurement that needs the whole machine
    cpu-N       SH by a call running on CPU N; EX by the measurement that owns N
    reserve-N   EX by the measurement that owns N (how measurements see each other's CPUs)

On a machine with more CPUs than a measurement needs plus ``KEEP_FREE``, a
measurement takes only the CPUs it needs (``plan``); its calls run with that
affinity, and calls of other grading run meanwhile on the CPUs nobody has
taken. On a small machine (2 CPUs) a measurement takes the whole machine, as
one exclusive lock. ``flock`` (Linux, macOS); elsewhere everything is a no-op.
"""
from __future__ import annotations

import os
import tempfile
import threading
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Collection, Iterator, Sequence

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

KEEP_FREE = 1
"""CPUs a measurement leaves to the rest of grading; a smaller machine is measured whole."""

_local = threading.local()


def lock_dir() -> Path:
    """Where the lock files live: ``MPGRADE_LOCK_DIR`` or the temp dir (shared by all graders here)."""
    folder = Path(os.environ.get("MPGRADE_LOCK_DIR") or tempfile.gettempdir()) / "mpgrade-cpu-locks"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def machine_cpus() -> list[int]:
    """The CPUs this process may run on."""
    try:
        return sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return list(range(os.cpu_count() or 1))


@dataclass(frozen=True)
class Plan:
    """What a measurement of ``need`` CPUs should do now."""

    action: str
    """"whole": take the whole machine; "take": take ``cpus``; "wait": others hold too many."""
    cpus: tuple[int, ...] = ()


def plan(usable: Sequence[int], reserved: Collection[int], need: int, keep_free: int = KEEP_FREE) -> Plan:
    """Which CPUs a measurement takes (pure): the lowest free ones, leaving ``keep_free`` to everyone else."""
    if len(usable) < need + keep_free:
        return Plan("whole", tuple(usable))
    free = [cpu for cpu in sorted(usable) if cpu not in reserved]
    if len(free) < need + keep_free:
        return Plan("wait")
    return Plan("take", tuple(free[:need]))


def _open(name: str) -> int:
    return os.open(lock_dir() / name, os.O_RDWR | os.O_CREAT, 0o666)


@contextmanager
def _flock(name: str, mode: int) -> Iterator[None]:
    fd = _open(name)
    try:
        fcntl.flock(fd, mode)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def _try(stack: ExitStack, name: str, mode: int) -> bool:
    """Take ``name`` without waiting; on success it stays held until ``stack`` closes."""
    fd = _open(name)
    try:
        fcntl.flock(fd, mode | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return False
    stack.callback(os.close, fd)
    return True


@contextmanager
def shared(usable: Sequence[int] | None = None) -> Iterator[tuple[int, ...] | None]:
    """Held around ordinary grading work; yields the CPUs it may use (None: no restriction).

    Inside a measurement it yields the measurement's CPUs.
    """
    held = getattr(_local, "cpus", False)
    if fcntl is None or held is not False:
        yield held or None
        return
    usable = list(usable if usable is not None else machine_cpus())
    with ExitStack() as stack:
        with _flock("turnstile", fcntl.LOCK_EX):
            pass
        stack.enter_context(_flock("cpu", fcntl.LOCK_SH))
        allowed = tuple(cpu for cpu in usable if _try(stack, f"cpu-{cpu}", fcntl.LOCK_SH))
        _local.hold = stack
        try:
            yield None if len(allowed) in (0, len(usable)) else allowed
        finally:
            _local.hold = None


def holding() -> bool:
    """Whether this thread holds a ``shared`` hold it could step aside from."""
    return getattr(_local, "hold", None) is not None


def step_aside() -> bool:
    """Release this thread's ``shared`` hold before its block ends; True if there was one to release.

    For a call that has run long and now waits without using the CPU (a
    deadlock, a sleep): it disturbs no measurement, and a measurement
    waiting for it would hold every other call back behind the turnstile
    until the call's time limit (up to a minute), idling the machine.
    """
    hold = getattr(_local, "hold", None)
    if hold is None:
        return False
    _local.hold = None
    hold.close()
    return True


@contextmanager
def measurement(need: int, usable: Sequence[int] | None = None, keep_free: int = KEEP_FREE,
                poll_s: float = 0.2) -> Iterator[tuple[int, ...] | None]:
    """Held around a measurement that must have ``need`` CPUs to itself; yields them (None: the whole machine)."""
    if fcntl is None or getattr(_local, "cpus", False) is not False:
        yield None
        return
    usable = list(usable if usable is not None else machine_cpus())
    if plan(usable, (), need, keep_free).action == "whole":
        with exclusive():
            yield None
        return
    import time

    with ExitStack() as stack:
        while True:
            with _flock("turnstile", fcntl.LOCK_EX):
                stack.enter_context(_flock("cpu", fcntl.LOCK_SH))  # no whole-machine measurement meanwhile
                probe = ExitStack()
                reserved = [cpu for cpu in usable if not _try(probe, f"reserve-{cpu}", fcntl.LOCK_EX)]
                probe.close()
                chosen = plan(usable, reserved, need, keep_free)
                if chosen.action == "take" and all(_try(stack, f"reserve-{cpu}", fcntl.LOCK_EX)
                                                   for cpu in chosen.cpus):
                    for cpu in chosen.cpus:  # waits for the calls already running there
                        fd = _open(f"cpu-{cpu}")
                        stack.callback(os.close, fd)
                        fcntl.flock(fd, fcntl.LOCK_EX)
                    break
                stack.close()
            time.sleep(poll_s)
        _local.cpus = chosen.cpus
        try:
            yield chosen.cpus
        finally:
            _local.cpus = False


@contextmanager
def exclusive() -> Iterator[None]:
    """Held around a measurement that must have the whole machine to itself."""
    if fcntl is None or getattr(_local, "cpus", False) is not False:
        yield
        return
    with _flock("turnstile", fcntl.LOCK_EX), _flock("cpu", fcntl.LOCK_EX):
        _local.cpus = None
        try:
            yield
        finally:
            _local.cpus = False
