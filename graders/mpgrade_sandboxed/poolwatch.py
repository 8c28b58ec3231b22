"""A Pool whose worker died: end the call at once instead of at its time limit (sandbox side).

Runs in the runner process, in the thread of each ``multiprocessing.Pool``
that maintains its workers. A worker that exits with a non-zero code is
replaced by a new one, forever: when every new worker dies too (the module
starts work at its top level, so each worker's import starts a Pool of its
own and fails; an initializer that raises) the Pool spins, restarting
processes, and ``map`` never returns. The call would burn CPU until its
limit (60 s for some checks) and then say only "did not finish".

A Pool worker only exits non-zero when it failed to start or died in a task
(whose result is then lost, so ``map`` waits forever either way). Once
``RESTART_LIMIT`` workers of the runner's pools have died so, the runner ends the call with a
``PoolWorkersKeepDying`` error: the count, the exit code and the student's
line that is waiting on the Pool; the workers' own tracebacks are in the
call's stderr. Student code could only trigger this to fail its own check
sooner: nothing here can pass one.
"""
from __future__ import annotations

import os
import sys
import threading
import time
from typing import Any, Callable

from mpgrade_sandboxed import afterimport

DEATH_LIMIT = 1
"""Worker deaths (non-zero exit code) in the runner's pools that end the call: the first dooms the call."""
ERROR_TYPE = "PoolWorkerDied"
"""The ``error["type"]`` the runner reports (the trusted side's feedback keys on it)."""


class Tally:
    """Worker deaths seen by the pools' maintenance threads of this process."""

    def __init__(self) -> None:
        self.deaths = 0
        self.exitcodes: list[int] = []
        self.fired = False
        self.lock = threading.Lock()


IMPORT_DEADLOCK_S = 1.0
"""How long a pool's task thread must wait on an import lock, the import still under way, to call it a deadlock."""
DEADLOCK_TYPE = "PoolImportDeadlock"
"""The ``error["type"]`` for a Pool started while its module was being imported, fed that module's functions."""


def _waiting_on_import(frame: Any) -> bool:
    """Whether a thread whose innermost frame is ``frame`` waits on a module's import lock inside a pool's
    threads: sending its tasks, or (spawn, forkserver) pickling the initializer for a new worker."""
    in_lock = in_pool = False
    while frame is not None:
        code = frame.f_code
        if code.co_name in ("_lock_unlock_module", "_get_module_lock") or (
                code.co_name == "acquire" and "importlib" in code.co_filename):
            in_lock = True
        if code.co_name in ("_handle_tasks", "_handle_workers") and code.co_filename.endswith("pool.py"):
            in_pool = True
        frame = frame.f_back
    return in_lock and in_pool


def _importing(frame: Any) -> bool:
    """Whether the main thread's stack (innermost ``frame``) runs a module's top level.

    The outermost frame does not count: it is the runner's own ``python -c`` code, always there."""
    while frame is not None and frame.f_back is not None:
        if frame.f_code.co_name == "<module>":
            return True
        frame = frame.f_back
    return False


def install(on_loop: Callable[[dict[str, Any]], None], limit: int = DEATH_LIMIT) -> Tally:
    """Watch every Pool this process makes; call ``on_loop(facts)`` once, from the pool's thread, past ``limit``.

    Only in the process that installed it (a forked child inherits the patch, not the job).
    """
    tally, owner = Tally(), os.getpid()
    stuck_since: list[float] = []
    watching: list[threading.Thread] = []

    def deadlocked() -> bool:
        """A pool's task thread waits on an import lock while the main thread runs a module's top level: the
        import waits for the Pool, the Pool for the import (pickling a function of a module being imported)."""
        frames = sys._current_frames()
        stuck = _importing(frames.get(threading.main_thread().ident)) and any(
            _waiting_on_import(frame) for ident, frame in frames.items() if ident != threading.get_ident())
        now = time.monotonic()
        if not stuck:
            stuck_since.clear()
            return False
        if not stuck_since:
            stuck_since.append(now)
        return now - stuck_since[0] >= IMPORT_DEADLOCK_S

    def watched(pool: list) -> bool:
        before = list(pool)
        cleaned = original[0](pool)
        # The workers the original removed, read after it joined them: a worker that exits between a look
        # of ours and the original's would be replaced unseen (and, under spawn, replacing it can deadlock).
        dead = [worker.exitcode for worker in before if worker not in pool and worker.exitcode not in (None, 0)]
        if dead and os.getpid() == owner:
            with tally.lock:
                tally.deaths += len(dead)
                tally.exitcodes.extend(code for code in dead if len(tally.exitcodes) < 20)
                fire = tally.deaths >= limit and not tally.fired
                tally.fired = tally.fired or fire
            if fire:
                on_loop({"deaths": tally.deaths, "exitcode": tally.exitcodes[0]})
        elif os.getpid() == owner and not watching and _importing(main_thread_frame()):
            watching.append(threading.Thread(target=watch_import, name="mpgrade-poolwatch", daemon=True))
            watching[0].start()
        return cleaned

    def watch_import() -> None:
        """While the main thread imports: look for the deadlock a few times a second (the pool's own thread
        sleeps until a worker exits, which never happens here)."""
        from mpgrade_sandboxed import waits

        waits.name_this_thread("poolwatch")  # its timed sleeps are not the student's: the deadlock watch skips it
        while _importing(main_thread_frame()) and not tally.fired:
            if deadlocked():
                with tally.lock:
                    fire, tally.fired = not tally.fired, True
                if fire:
                    on_loop({"deadlock": True})
                return
            time.sleep(0.2)

    def patch(pool_module: Any) -> None:
        original.append(pool_module.Pool.__dict__["_join_exited_workers"].__func__)
        pool_module.Pool._join_exited_workers = staticmethod(watched)

    original: list[Callable[[list], bool]] = []
    afterimport.when_imported("multiprocessing.pool", patch)  # most calls never import it
    return tally


def message(facts: dict[str, Any]) -> str:
    """The error's message: what the Pool did, in the student's terms."""
    if facts.get("deadlock"):
        return ("a Pool was started while the module was being imported, and it needs that import to finish "
                "before it can send the module's functions to its workers, while the import waits for the Pool")
    times = "a worker process" if facts["deaths"] == 1 else f"{facts['deaths']} worker processes"
    code = facts["exitcode"]
    how = f"exited with code {code}" if code > 0 else f"was killed by signal {-code}" if facts["deaths"] == 1 \
        else f"were killed by signal {-code}"
    return f"{times} of its Pool {how}"


def main_thread_frame() -> Any:
    """The main thread's current frame (where the student's code waits on the Pool), or None."""
    return sys._current_frames().get(threading.main_thread().ident)
