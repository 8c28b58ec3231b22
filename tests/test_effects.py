"""Effects the witness sees from outside the student's processes, which graders judge instead of API counts.

Each test runs real student code in the sandbox under every start method and
checks what ``CallResult`` carries: the processes the call started and what
each was (``mpgrade.started_processes``), SharedMemory blocks left in
/dev/shm (not unlinked) and blocks the caller still maps (not closed).
"""
from __future__ import annotations

import os
import sys
import threading
import uuid

import _posixshmem

import pytest

from mpgrade import started_processes
from mpgrade.settings import GradingSettings
from mpgrade.grading.student import Student

METHODS = ["fork", "spawn", "forkserver"]
pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc and /dev/shm are Linux's")

MODULE = '''
import multiprocessing
from multiprocessing import shared_memory

KEPT = []


def bump(counts, lock, word):
    with lock:
        counts[word] = counts.get(word, 0) + 1


def manager_and_pool(words, n):
    with multiprocessing.Manager() as manager:
        counts, lock = manager.dict(), manager.Lock()
        with multiprocessing.Pool(n) as pool:
            pool.starmap(bump, [(counts, lock, w) for w in words])
        return dict(counts)


class Squarer(multiprocessing.Process):
    def __init__(self, n):
        super().__init__()
        self.n = n

    def run(self):
        self.n * self.n


def subclass(n):
    workers = [Squarer(i) for i in range(n)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return n


def wait(seconds):
    import time
    time.sleep(seconds)


def block(unlink, keep):
    shm = shared_memory.SharedMemory(create=True, size=64)
    name = shm.name
    if keep:
        KEPT.append(shm)  # still mapped when the function returns: never closed
    else:
        shm.close()
    if unlink:
        shm.unlink()
    return name
'''


@pytest.fixture
def student(tmp_path):
    (tmp_path / "effects.py").write_text(MODULE, encoding="utf-8")

    def make(method: str) -> Student:
        return Student(GradingSettings(tmp_path.resolve(), method, 1.0, 0, None), "effects")

    return make


@pytest.mark.parametrize("method", METHODS)
def test_a_pool_sharing_a_managers_dict_is_three_workers_and_one_manager(student, method, leftovers):
    result = student(method).call("manager_and_pool", ["a", "b", "a", "c"], 3)
    assert result.value == {"a": 2, "b": 1, "c": 1}
    assert result.witnessed
    workers = started_processes(result)
    # A worker the with-block's terminate() stops before it ran never says what it is: still one of the three.
    assert len(workers) == 3 and {p["role"] for p in workers} <= {"pool", "unannounced"}, result.processes
    assert "pool" in {p["role"] for p in workers}
    assert [p["target"] for p in started_processes(result, "manager")] == ["BaseManager._run_server"]
    assert not any(p["alive_at_end"] for p in workers)
    helpers = started_processes(result, "helper")  # a fork server under forkserver, a resource tracker
    assert all(p["role"] == "helper" for p in helpers)
    assert leftovers() == []


@pytest.mark.parametrize("method", METHODS)
def test_a_process_subclass_is_a_worker_running_its_run_method(student, method, leftovers):
    result = student(method).call("subclass", 3)
    assert [(p["role"], p["target"]) for p in started_processes(result)] == [("process", "Squarer.run")] * 3
    assert leftovers() == []


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("unlink, keep", [(True, False), (False, False), (True, True)])
def test_blocks_left_and_blocks_still_mapped_are_kernel_facts(student, method, unlink, keep, leftovers):
    result = student(method).call("block", unlink, keep)
    name = result.value
    assert (name in result.shm_left) == (not unlink), result.shm_left
    assert (name in result.shm_mapped) == keep, result.shm_mapped
    assert leftovers() == []


@pytest.mark.parametrize("method", ["fork", "forkserver"])
def test_a_block_another_call_leaves_during_this_one_is_not_this_calls(student, method, leftovers):
    """/dev/shm is shared by every call graded at once (outside bubblewrap): a block another grading leaks
    while this call runs, held by none of this call's processes, is not charged to this student (the runner
    did not make it either)."""
    name = f"psm_neighbour_{uuid.uuid4().hex[:8]}"

    def leak_meanwhile() -> None:  # made without multiprocessing: no resource tracker in this process
        threading.Event().wait(0.3)
        fd = _posixshmem.shm_open("/" + name, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600)
        os.ftruncate(fd, 64)
        os.close(fd)  # unmapped, not unlinked: what a neighbour that forgot unlink() leaves

    neighbour = threading.Thread(target=leak_meanwhile)
    neighbour.start()
    try:
        result = student(method).call("wait", 1.0)
    finally:
        neighbour.join()
        try:  # this call's supervisor may have swept it: unheld, it is garbage to anyone
            _posixshmem.shm_unlink("/" + name)
        except FileNotFoundError:
            pass
    assert result.shm_left == [], result.shm_left
    assert leftovers() == []


@pytest.mark.parametrize("method", METHODS)
def test_multiprocessings_helpers_are_never_workers_nor_left_running(student, method, leftovers):
    """A fork server or resource tracker first seen between its fork and its exec carries its parent's command
    line; the end mark's reading names it a helper (it once counted as a worker left running, 1 run in 8)."""
    for _ in range(4):
        result = student(method).call("manager_and_pool", ["a"], 2)
        assert not [p for p in result.processes if p["alive_at_end"] and p["role"] != "helper"], result.processes
    assert leftovers() == []
