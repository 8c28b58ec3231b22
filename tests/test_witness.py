"""The witness (mpgrade_sandboxed/witness.py): what the supervisor records from outside, and that a
process living a millisecond is still witnessed."""
from __future__ import annotations

import os
import sys
import time

import pytest

from mpgrade import CallRequest, run_call, task
from mpgrade_sandboxed import proctree, witness

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork and /proc: Linux")


@pytest.fixture
def server(tmp_path, monkeypatch):
    path = str(tmp_path / "w.sock")
    monkeypatch.setenv(witness.WITNESS_ENV, path)
    monkeypatch.setattr(witness, "_local", __import__("threading").local())
    serving = witness.Witness(path, proctree)
    yield serving
    serving.close()


def _in_child(server: witness.Witness, body) -> int:
    """Run ``body`` in a forked child while this process serves the witness; the child's PID."""
    pid = os.fork()
    if pid == 0:
        try:
            body()
        finally:
            os._exit(0)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        server.serve(0.01)
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done:
            return pid
    raise AssertionError("the child did not finish")


def test_a_task_is_recorded_with_the_kernels_pid_parent_and_the_witness_clock(server):
    began = time.time()

    def body():
        witness.task_mark("start", "square", [3])
        witness.task_mark("end", "square", [3])

    pid = _in_child(server, body)
    [record] = server.report()["witnessed_tasks"]
    assert (record["task"], record["args"], record["pid"], record["ppid"]) == ("square", [3], pid, os.getpid())
    assert began <= record["start"] <= record["end"] <= time.time()


def test_the_first_hello_names_the_runner_and_only_the_runner_marks_the_call(server):
    runner = _in_child(server, lambda: (witness.hello(), witness.call_mark("begin"), witness.call_mark("end")))
    _in_child(server, lambda: (witness.hello(), witness.call_mark("end")))
    report = server.report()
    assert report["runner_pid"] == runner
    assert report["witnessed_call"] is not None
    codes = {p["code"] for p in report["witness_problems"]}
    assert {witness.SECOND_RUNNER, witness.FORGED_CALL_MARK} <= codes, report["witness_problems"]


def test_a_forked_child_writing_on_its_parents_connection_is_refused(server):
    def body():
        witness.send({"m": "child"})  # this process's connection
        if os.fork() == 0:  # the grandchild writes on it, as if it were its parent
            witness._local.connection.sendall(b'{"m":"task","edge":"start","task":"square","args":[1]}\n')
            os._exit(0)
        os.wait()

    _in_child(server, body)
    assert witness.FOREIGN_CONNECTION in {p["code"] for p in server.report()["witness_problems"]}


def test_an_unknown_mark_is_answered_and_refused(server):
    _in_child(server, lambda: witness.send({"m": "nonsense"}))
    assert witness.UNKNOWN_MARK in {p["code"] for p in server.report()["witness_problems"]}


@pytest.mark.parametrize("method", ["fork", "spawn", "forkserver"])
def test_processes_that_live_a_millisecond_are_witnessed(write_module, method):
    """exit_after(code, 0) under fork lives far less than a watchdog period; each run is still witnessed."""
    folder = write_module("m", """
        import multiprocessing

        def run(func, args_list):
            ps = [multiprocessing.Process(target=func, args=args) for args in args_list]
            for p in ps:
                p.start()
            for p in ps:
                p.join()
            return [p.exitcode for p in ps]
        """)
    codes = [3, 0, 7, 1, 2, 5]
    result = run_call(CallRequest(folder, "m", "run", args=(task("exit_after"), [(c,) for c in codes]),
                                  start_method=method))
    assert result.value == codes
    assert result.witnessed and result.evidence_problems == {}
    assert sorted(r["args"][0] for r in result.evidence) == sorted(codes)
    assert len({r["pid"] for r in result.evidence}) == len(codes)
    assert result.runner_pid not in {r["pid"] for r in result.evidence}


def test_without_a_witness_the_records_from_inside_are_used(write_module, tmp_path, monkeypatch):
    """A socket path past AF_UNIX's limit (as a long TMPDIR on macOS makes): no witness, the old evidence."""
    import tempfile

    folder = write_module("m", """
        import multiprocessing

        def run(func, args_list):
            ps = [multiprocessing.Process(target=func, args=args) for args in args_list]
            for p in ps:
                p.start()
            for p in ps:
                p.join()
            return [p.exitcode for p in ps]
        """)
    deep = tmp_path / ("x" * 60) / ("y" * 60)
    deep.mkdir(parents=True)
    monkeypatch.setattr(tempfile, "tempdir", str(deep))
    result = run_call(CallRequest(folder, "m", "run", args=(task("exit_after"), [(2,), (5,)]), namespaces="off"))
    assert result.value == [2, 5]
    assert not result.witnessed and result.evidence_problems == {}
    assert sorted(r["args"][0] for r in result.evidence) == [2, 5]


def test_tasks_in_threads_of_one_process_are_each_witnessed(write_module):
    """A ThreadPool is an ordinary mistake (judged as such by the graders), never tampering."""
    folder = write_module("m", """
        from multiprocessing.pool import ThreadPool

        def run(func, items):
            with ThreadPool(4) as pool:
                return pool.map(func, items)
        """)
    result = run_call(CallRequest(folder, "m", "run", args=(task("pause_square"), list(range(8)))))
    assert result.value == [n * n for n in range(8)]
    assert result.evidence_problems == {}
    assert sorted(r["args"][0] for r in result.evidence) == list(range(8))
    assert {r["pid"] for r in result.evidence} == {result.runner_pid}


@pytest.mark.parametrize("method", ["fork", "spawn", "forkserver"])
def test_pool_workers_cpu_is_counted_under_every_start_method(write_module, method):
    """Under forkserver the fork server, not the runner, reaps the workers: their CPU must still be counted.

    The speedup check's structure fails a function whose children used no CPU ("the work did not run in
    them"): if the fork server's reaped CPU went uncounted, every correct Pool would score 0 there.
    """
    folder = write_module("m", """
        import multiprocessing

        def run(func, seconds):
            with multiprocessing.Pool(2) as pool:
                return pool.map(func, [seconds] * 4)
        """)
    result = run_call(CallRequest(folder, "m", "run", args=(task("burn_cpu"), 0.15), start_method=method))
    assert result.status == "returned", result
    assert result.children_cpu_s >= 0.4, result.children_cpu_s  # 4 x 0.15 s of CPU, less clock-tick rounding
    assert result.evidence_problems == {}


def test_the_runners_ancestors_seen_after_its_begin_mark_are_not_processes_the_call_started(server):
    """Inside bubblewrap the runner's parents (bwrap's two processes) start before it; a runner that marks the
    call's begin quickly may do so before the watchdog first looked at them. Found by a lean runner: a Pool(2)
    read as three workers, and the speedup check failed the reference solution."""
    stat, t = proctree.ProcStat, 1000.0
    server._saw(10, stat(1, "S", 0, 0, 5), t - 1)  # outer bwrap, seen by an early watchdog round
    server.runner_pid = 12
    server._saw(12, stat(11, "R", 0, 0, 7), t)  # the runner, at its hello
    server.call["begin"] = {"t": t, "self_ticks": 0, "reaped_ticks": 0, "served_ticks": 0}
    server._saw(11, stat(10, "S", 0, 0, 6), t + 0.05)  # inner bwrap (the namespace's init), first seen now
    for worker in (13, 14):
        server._saw(worker, stat(12, "R", 0, 0, 9), t + 0.05)  # what the call started
    server._saw(15, stat(11, "S", 0, 0, 9), t + 0.06)  # a daemon re-parented to the namespace's init
    server.call["end"] = {"t": t + 1, "self_ticks": 0, "reaped_ticks": 0, "served_ticks": 0}
    server.call["live"] = []
    assert server.report()["witnessed_call"]["processes_started"] == 3
