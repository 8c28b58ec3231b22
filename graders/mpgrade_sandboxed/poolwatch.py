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
from typing import Any, Callable

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


def install(on_loop: Callable[[dict[str, Any]], None], limit: int = DEATH_LIMIT) -> Tally:
    """Watch every Pool this process makes; call ``on_loop(facts)`` once, from the pool's thread, past ``limit``.

    Only in the process that installed it (a forked child inherits the patch, not the job).
    """
    from multiprocessing import pool as pool_module

    tally, owner = Tally(), os.getpid()
    original = pool_module.Pool.__dict__["_join_exited_workers"].__func__

    def watched(pool: list) -> bool:
        dead = [worker.exitcode for worker in list(pool) if worker.exitcode not in (None, 0)]
        cleaned = original(pool)
        if dead and os.getpid() == owner:
            with tally.lock:
                tally.deaths += len(dead)
                tally.exitcodes.extend(code for code in dead if len(tally.exitcodes) < 20)
                fire = tally.deaths >= limit and not tally.fired
                tally.fired = tally.fired or fire
            if fire:
                on_loop({"deaths": tally.deaths, "exitcode": tally.exitcodes[0]})
        return cleaned

    pool_module.Pool._join_exited_workers = staticmethod(watched)  # type: ignore[method-assign]
    return tally


def message(facts: dict[str, Any]) -> str:
    """The error's message: what the Pool did, in the student's terms."""
    times = "a worker process" if facts["deaths"] == 1 else f"{facts['deaths']} worker processes"
    return f"{times} of its Pool exited with code {facts['exitcode']}"


def main_thread_frame() -> Any:
    """The main thread's current frame (where the student's code waits on the Pool), or None."""
    return sys._current_frames().get(threading.main_thread().ident)
