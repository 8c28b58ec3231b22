"""A Pool whose worker died ends the call at once, with the worker's error and the student's line."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from mpgrade import CallRequest, run_call
from mpgrade.verdicts.feedback import explain
from mpgrade_sandboxed.poolwatch import ERROR_TYPE

START_METHODS = ["fork", "spawn", "forkserver"]
LIMIT_S = 60.0
"""Far longer than any of these calls takes once the watch ends it: a timeout means the watch did not."""


def call(folder, target, start_method="forkserver"):
    return run_call(CallRequest(folder, "mod", target, start_method=start_method, timeout_s=LIMIT_S))


@pytest.mark.parametrize("start_method", START_METHODS)
def test_a_pool_whose_workers_cannot_start_ends_the_call_with_their_error(write_module, start_method):
    folder = write_module("mod", """
        import multiprocessing

        def setup():
            raise ValueError("no config")

        def work(x):
            return x

        def run():
            with multiprocessing.Pool(2, initializer=setup) as pool:
                return pool.map(work, range(4))
    """)
    result = call(folder, "run", start_method)
    assert result.status == "raised", result.status
    assert result.error["type"] == ERROR_TYPE
    assert result.error["where"]["line"] in (11, 12)  # the student's line on the Pool (fork: maybe still starting it)
    text = explain(result, "run()", "mod.py", LIMIT_S, Path(folder) / "mod.py")
    assert re.search(r"run\(\) was stopped: (a worker process|\d worker processes) of its Pool exited with code 1", text)
    assert "A worker process raised ValueError: no config\n  at mod.py:5" in text


def test_a_task_that_ends_its_worker_process_ends_the_call(write_module):
    folder = write_module("mod", """
        import multiprocessing, sys

        def work(x):
            sys.exit(3)

        def run():
            with multiprocessing.Pool(2) as pool:
                return pool.map(work, range(4))
    """)
    result = call(folder, "run")
    assert result.status == "raised" and result.error["type"] == ERROR_TYPE
    assert "exited with code 3" in result.error["message"]
    text = explain(result, "run()", "mod.py", LIMIT_S, Path(folder) / "mod.py")
    assert "sys.exit" in text  # no traceback to show: the ways a worker ends


def test_a_pool_started_at_import_names_the_top_level_statement(write_module):
    folder = write_module("mod", """
        import multiprocessing

        def setup():
            raise ValueError("no config")

        def main():
            with multiprocessing.Pool(2, initializer=setup) as pool:
                return pool.map(abs, range(4))

        main()

        def run():
            return 1
    """)
    result = call(folder, "run", "spawn")
    assert result.status == "import_error" and result.error["type"] == ERROR_TYPE
    assert result.error["where"]["line"] == 11
    text = explain(result, "run()", "mod.py", LIMIT_S, Path(folder) / "mod.py")
    assert text.startswith("Importing mod.py was stopped")
    assert "the statement that started it at mod.py:11: main()" in text


def test_workers_that_end_normally_are_not_deaths(write_module):
    """maxtasksperchild: each worker exits (code 0) after one task and is replaced; the call returns."""
    folder = write_module("mod", """
        import multiprocessing

        def work(x):
            return x * x

        def run():
            with multiprocessing.Pool(2, maxtasksperchild=1) as pool:
                return pool.map(work, range(6), chunksize=1)
    """)
    result = call(folder, "run")
    assert result.status == "returned", result.error
    assert result.value == [0, 1, 4, 9, 16, 25]


@pytest.mark.parametrize("start_method", START_METHODS)
def test_a_pool_fed_from_a_module_still_being_imported_is_a_deadlock_named_at_once(write_module, start_method):
    """The pool's task thread waits for the import to finish (pickling work), the import waits for the Pool."""
    folder = write_module("mod", """
        import multiprocessing

        def work(x):
            return x

        def main():
            with multiprocessing.Pool(2) as pool:
                return pool.map(work, range(4))

        main()

        def run():
            return 1
    """)
    result = call(folder, "run", start_method)
    assert result.status == "import_error", result.status
    assert result.error["type"] == "PoolImportDeadlock" and result.error["where"]["line"] == 11
    text = explain(result, "run()", "mod.py", LIMIT_S, Path(folder) / "mod.py")
    assert text.startswith("Importing mod.py never finished, so it was stopped: a Pool was started while")
    assert "at mod.py:11: main()" in text


def test_a_slow_import_that_uses_a_pool_of_another_module_is_no_deadlock(write_module):
    """A Pool at import time fed a function of another module (abs) finishes; nothing is stopped."""
    folder = write_module("mod", """
        import multiprocessing, time

        with multiprocessing.Pool(2) as pool:
            TABLE = pool.map(abs, [-1, -2, -3])
        time.sleep(1.5)

        def run():
            return TABLE
    """)
    result = call(folder, "run", "forkserver")
    assert result.status == "returned", result.error
    assert result.value == [1, 2, 3]


@pytest.mark.parametrize("start_method", ["spawn", "forkserver"])
def test_replacing_a_worker_while_its_initializer_module_is_imported_is_a_deadlock(write_module, start_method):
    """maxtasksperchild: each replacement worker needs the initializer pickled, which waits for the import."""
    folder = write_module("mod", """
        import multiprocessing

        def setup():
            pass

        def main():
            with multiprocessing.Pool(2, initializer=setup, maxtasksperchild=1) as pool:
                return pool.map(abs, range(6), chunksize=1)

        if multiprocessing.current_process().name == "MainProcess":  # not in a worker importing it for setup
            main()

        def run():
            return 1
    """)
    result = call(folder, "run", start_method)
    assert result.status == "import_error", result.status
    assert result.error["type"] == "PoolImportDeadlock" and result.error["where"]["line"] == 12


class _DiesBetweenLooks:
    """A worker whose exit shows on the second look at it: the pool's own look, if it comes after ours."""

    def __init__(self) -> None:
        self.looks = 0

    @property
    def exitcode(self):
        self.looks += 1
        return None if self.looks == 1 else 1

    def join(self) -> None:
        pass


def test_a_worker_that_dies_between_two_looks_is_still_counted(monkeypatch):
    from multiprocessing import pool as pool_module
    from mpgrade_sandboxed import poolwatch

    monkeypatch.setattr(pool_module.Pool, "_join_exited_workers", pool_module.Pool.__dict__["_join_exited_workers"])
    monkeypatch.setattr(poolwatch, "_importing", lambda frame: False)
    seen = []
    poolwatch.install(seen.append)
    workers = [_DiesBetweenLooks()]
    for _ in range(3):
        pool_module.Pool._join_exited_workers(workers)
    assert workers == [] and seen == [{"deaths": 1, "exitcode": 1}]


def test_the_import_watch_starts_only_while_a_module_is_imported(write_module):
    """A Pool used by a called function: no watch thread polls the call's frames (it would cost, and could misname)."""
    folder = write_module("mod", """
        import multiprocessing, threading

        def run():
            with multiprocessing.Pool(2) as pool:
                pool.map(abs, range(4))
            return sorted(thread.name for thread in threading.enumerate())
    """)
    result = call(folder, "run", "fork")
    assert result.status == "returned", result.error
    assert "mpgrade-poolwatch" not in result.value
