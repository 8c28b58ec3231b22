"""Deadlocks end a call in about a second and name who waits where; slow, sleeping or polling code never does."""
from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from mpgrade import CallRequest, run_call
from mpgrade.verdicts.hangs import describe_wait
from mpgrade.sandbox.stacks import parse
from mpgrade_sandboxed import waits

pytestmark = pytest.mark.skipif(not waits.supported(), reason="no /proc/PID/syscall for this architecture here")
METHODS = ("fork", "spawn", "forkserver")

DEADLOCKS = """
    import multiprocessing, threading, time

    def _consume(tasks):
        while True:
            if tasks.get() == "STOP":
                return

    def stop_value_never_sent():
        tasks = multiprocessing.Queue()
        worker = multiprocessing.Process(target=_consume, args=(tasks,))
        worker.start()
        tasks.put(None)
        worker.join()

    def lock_twice():
        lock = multiprocessing.Lock()
        with lock:
            with lock:
                return 1

    def waits_for_itself():
        receiver, sender = multiprocessing.Pipe(duplex=False)
        return receiver.recv()
"""

NOT_DEADLOCKS = """
    import multiprocessing, time

    def _nap(seconds):
        time.sleep(seconds)

    def _spin(seconds):
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            pass

    def sleeping_worker(seconds):
        worker = multiprocessing.Process(target=_nap, args=(seconds,))
        worker.start()
        worker.join()
        return seconds

    def busy_worker(seconds):
        worker = multiprocessing.Process(target=_spin, args=(seconds,))
        worker.start()
        worker.join()
        return seconds

    def polling_caller(seconds):
        worker = multiprocessing.Process(target=_nap, args=(seconds,))
        worker.start()
        while worker.is_alive():
            worker.join(timeout=0.2)
        return seconds

    def queue_with_timeout(seconds):
        queue = multiprocessing.Queue()
        try:
            queue.get(timeout=seconds)
        except Exception:
            return seconds

    def _slow_put(queue, seconds):
        time.sleep(seconds)
        queue.put(seconds)

    def slow_producer(seconds):
        queue = multiprocessing.Queue()
        worker = multiprocessing.Process(target=_slow_put, args=(queue, seconds))
        worker.start()
        got = queue.get()
        worker.join()
        return got

    def _slow_square(n):
        time.sleep(0.8)
        return n * n

    def slow_pool(n):
        with multiprocessing.Pool(2) as pool:
            return pool.map(_slow_square, range(n))

    def _add(counts, word):
        time.sleep(2.5)
        counts[word] = 1

    def manager_slow_worker():
        with multiprocessing.Manager() as manager:
            counts = manager.dict()
            worker = multiprocessing.Process(target=_add, args=(counts, "a"))
            worker.start()
            worker.join()
            return dict(counts)
"""


def _call(folder, target, *args, method="forkserver", timeout=20.0):
    began = time.monotonic()
    result = run_call(CallRequest(folder, "mod", target, args=args, start_method=method, timeout_s=timeout))
    return result, time.monotonic() - began


@pytest.mark.parametrize("method", METHODS)
def test_a_deadlock_ends_the_call_in_seconds_and_names_who_waits_where(write_module, method, leftovers):
    folder = write_module("mod", DEADLOCKS)
    result, seconds = _call(folder, "stop_value_never_sent", method=method)
    assert result.status == "timeout" and result.hang["deadlock"], (result.status, result.hang)
    assert seconds < 12, seconds  # the limit was 20 s (about 1.5 s here when the machine is not loaded)
    student = folder / "mod.py"
    by_role = {w["role"]: describe_wait(w, student) for w in result.hang["waits"] if w["role"] != "helper"}
    assert by_role["caller"][0] == "join" and by_role["process"][0] == "get", (by_role, result.hang)
    assert by_role["process"][2] == 6, by_role  # `if tasks.get() == "STOP":`
    # only the call's own processes (inside bubblewrap, its two processes above the runner are not named)
    assert {w["role"] for w in result.hang["waits"]} <= {"caller", "process", "helper"}, result.hang["waits"]
    worker = next(w for w in result.hang["waits"] if w["role"] == "process")
    assert worker["target"].endswith("_consume") and worker["state"] == "waiting"
    assert leftovers() == []


@pytest.mark.parametrize("target, kind", [("lock_twice", "lock"), ("waits_for_itself", "recv")])
def test_a_process_alone_that_waits_for_itself_is_a_deadlock(write_module, target, kind):
    folder = write_module("mod", DEADLOCKS)
    result, seconds = _call(folder, target)
    assert result.status == "timeout" and result.hang["deadlock"] and seconds < 12, (result.status, seconds)
    caller = next(w for w in result.hang["waits"] if w["role"] == "caller")
    assert describe_wait(caller, folder / "mod.py")[0] == kind, caller


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("target, args", [
    ("sleeping_worker", (3.0,)), ("busy_worker", (2.0,)), ("polling_caller", (2.5,)), ("queue_with_timeout", (2.5,)),
    ("slow_producer", (2.5,)), ("slow_pool", (4,)), ("manager_slow_worker", ()),
])
def test_waiting_for_slow_sleeping_or_polling_code_is_never_a_deadlock(write_module, method, target, args):
    folder = write_module("mod", NOT_DEADLOCKS)
    result, _ = _call(folder, target, *args, method=method)
    assert result.status == "returned", (result.status, result.hang, result.stderr.text[-500:])


def test_not_under_a_background_load_either(write_module):
    """Two busy processes per CPU beside the call: the sleeping worker's and the caller's waits stay what they are."""
    folder = write_module("mod", NOT_DEADLOCKS)
    hogs = [subprocess.Popen([sys.executable, "-c", "import time\nend = time.monotonic() + 60\n"
                              "while time.monotonic() < end: pass"]) for _ in range(2 * (os.cpu_count() or 1))]
    try:
        for target, args in (("sleeping_worker", (2.0,)), ("slow_producer", (2.0,)), ("slow_pool", (3,))):
            result, _ = _call(folder, target, *args)
            assert result.status == "returned", (target, result.status, result.hang)
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()


def test_the_kernel_says_which_wait_has_a_timeout():
    """A pipe read with no timeout is "waiting"; a sleep and a get(timeout=) are "timed"; a loop is "running"."""
    codes = {"waiting": "import os\nr, w = os.pipe()\nos.read(r, 1)",
             "timed": "import time\ntime.sleep(30)",
             "queue_timed": "import multiprocessing as mp\nq = mp.Queue()\nq.get(timeout=30)",
             "running": "while True: pass"}
    processes = {name: subprocess.Popen([sys.executable, "-c", code]) for name, code in codes.items()}
    try:
        time.sleep(1.0)
        states = {name: waits.describe(p.pid).state for name, p in processes.items()}
    finally:
        for process in processes.values():
            process.kill()
            process.wait()
    assert states == {"waiting": "waiting", "timed": "timed", "queue_timed": "timed", "running": "running"}, states


def test_a_watch_fires_only_after_its_hold_and_resets_on_cpu_use():
    process = subprocess.Popen([sys.executable, "-c", "import os\nr, w = os.pipe()\nos.read(r, 1)"])
    try:
        time.sleep(0.5)
        watch = waits.DeadlockWatch(hold_s=0.6)
        now = time.monotonic()
        assert not watch.look([process.pid], now)
        assert not watch.look([process.pid], now + 0.3)
        assert watch.look([process.pid], now + 0.7)
    finally:
        process.kill()
        process.wait()
    assert not waits.DeadlockWatch().look([], time.monotonic())  # nothing alive is not a deadlock


def test_faulthandler_dumps_are_read_main_thread_first():
    text = ('Thread 0x00007f01 (most recent call first):\n'
            '  File "/usr/lib/python3.11/threading.py", line 320 in wait\n'
            '  File "/usr/lib/python3.11/threading.py", line 1002 in _bootstrap\n\n'
            'Current thread 0x00007f02 (most recent call first):\n'
            '  File "/usr/lib/python3.11/multiprocessing/queues.py", line 103 in get\n'
            '  File "/tmp/sub/ex03_queue.py", line 29 in consume\n'
            '  File "<string>", line 1 in <module>\n')
    threads = parse(text)
    assert threads[0][1] == ("/tmp/sub/ex03_queue.py", 29, "consume") and len(threads) == 2
    assert parse("") == []



SCRIPT_DEADLOCK = """
    import multiprocessing

    def _wait(queue):
        return queue.get()

    if __name__ == "__main__":
        with multiprocessing.Manager() as manager:
            queue = manager.Queue()
            with multiprocessing.Pool(2) as pool:
                print(pool.apply_async(_wait, (queue,)).get())
"""


@pytest.mark.parametrize("method", ("spawn", "forkserver"))
def test_a_script_s_deadlock_is_seen_past_the_runtime_s_own_watcher_thread(write_module, method):
    """Run as a script, a Pool made at the top level gets poolwatch's import watcher, a thread of the runner that
    sleeps 0.2 s at a time; the deadlock watch leaves the runtime's own threads out (their kernel name)."""
    folder = write_module("mod", SCRIPT_DEADLOCK)
    began = time.monotonic()
    result = run_call(CallRequest(folder, "mod", "mod", kind="script", start_method=method, timeout_s=20))
    assert result.status == "timeout" and result.hang["deadlock"], (result.status, result.hang)
    assert time.monotonic() - began < 8
    # the resource tracker never announces itself: it is named multiprocessing's helper, not "another process"
    assert {w["role"] for w in result.hang["waits"]} <= {"caller", "helper", "manager", "pool"}, result.hang["waits"]
