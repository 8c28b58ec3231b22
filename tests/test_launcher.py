"""The sandbox launcher: limits, process-tree cleanup, plain data back, captured output."""
from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from mpgrade import CallRequest, run_call
from mpgrade_sandboxed.plaindata import Opaque, RemoteException

START_METHODS = ["fork", "spawn", "forkserver"]


def call(folder, target, *args, timeout=10.0, start_method="spawn", kind="function", **kwargs):
    return run_call(CallRequest(folder, "mod", target, kind=kind, args=args, kwargs=kwargs,
                                start_method=start_method, timeout_s=timeout))


def test_returns_plain_data(write_module):
    folder = write_module("mod", """
        def value():
            return (1, [2.5, None], {"a": {3, 4}}, {1: "x"}, b"\\x00", float("inf"), ValueError("no"), object())
    """)
    result = call(folder, "value")
    assert result.status == "returned", result
    a, b, c, d, e, f, g, h = result.value
    assert (a, b, c, d, e, f) == (1, [2.5, None], {"a": {3, 4}}, {1: "x"}, b"\x00", float("inf"))
    assert g == RemoteException("ValueError", "no")
    assert isinstance(h, Opaque) and h.type == "object"


@pytest.mark.parametrize("start_method", START_METHODS)
def test_sleeping_forever_is_killed_within_the_limit_with_its_whole_tree(write_module, leftovers, start_method):
    """The call, its multiprocessing child and a setsid'd grandchild all die at the limit."""
    folder = write_module("mod", """
        import multiprocessing, os, time

        def _grandchild_escapes():
            if os.fork() == 0:
                os.setsid()          # leaves the process group: killpg alone would miss it
                time.sleep(600)
                os._exit(0)
            time.sleep(600)

        def hang():
            multiprocessing.Process(target=_grandchild_escapes).start()
            time.sleep(600)
    """)
    began = time.monotonic()
    result = call(folder, "hang", timeout=3.0, start_method=start_method)
    elapsed = time.monotonic() - began
    assert result.status == "timeout" and result.phase == "calling"
    assert elapsed < 3.0 + 2.0, elapsed
    assert leftovers() == []
    assert len(result.killed) >= 2  # the Process and the escaped grandchild, at least
    assert result.left_alive == []


def test_raise_reports_the_students_line(write_module):
    folder = write_module("mod", """
        def helper(x):
            return 10 / x

        def divide(x):
            total = helper(x)
            return total
    """)
    result = call(folder, "divide", 0)
    assert result.status == "raised"
    assert result.error["type"] == "ZeroDivisionError"
    assert result.error["where"]["file"] == "mod.py"
    assert result.error["where"]["line"] == 3
    assert result.error["where"]["source"] == "return 10 / x"


def test_exception_in_a_pool_worker_points_at_the_worker_line(write_module):
    folder = write_module("mod", """
        import multiprocessing

        def work(x):
            return [1, 2][x]

        def run():
            with multiprocessing.Pool(2) as pool:
                return pool.map(work, [0, 5])
    """)
    result = call(folder, "run", timeout=20)
    assert result.status == "raised"
    assert result.error["type"] == "IndexError"
    assert result.error["where"]["line"] == 5


def test_output_flood_is_truncated_without_loading_it(tmp_path, write_module):
    """50 MB printed: the result holds head and tail only, and the grading process stays small."""
    folder = write_module("mod", """
        import sys

        def flood():
            chunk = "x" * (1024 * 1024 - 1) + "\\n"
            for _ in range(50):
                sys.stdout.write(chunk)
            print("THE END")
            return 1
    """)
    script = tmp_path / "measure.py"
    script.write_text(
        "import json, resource, sys\n"
        "from mpgrade import CallRequest, run_call\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        f"r = run_call(CallRequest({str(folder)!r}, 'mod', 'flood', timeout_s=30))\n"
        "after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "print(json.dumps({'status': r.status, 'total': r.stdout.total_bytes, 'truncated': r.stdout.truncated,"
        " 'kept': len(r.stdout.text), 'end': r.stdout.text.rstrip().endswith('THE END'),"
        " 'grew_kb': after - before}))\n")
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    facts = json.loads(out.stdout.strip().splitlines()[-1])
    assert facts["status"] == "returned"
    assert facts["total"] == 50 * 1024 * 1024 + len("THE END\n")
    assert facts["truncated"] and facts["end"]
    assert facts["kept"] < 64 * 1024
    assert facts["grew_kb"] < 20 * 1024, facts  # far less than the 50 MB printed


@pytest.mark.parametrize("source, status, detail", [
    ("def f(:\n    pass\n", "import_error", "SyntaxError"),
    ("import no_such_module_anywhere\n", "import_error", "ModuleNotFoundError"),
    ("import sys\nsys.exit(3)\n", "import_error", "SystemExit"),
    ("def g():\n    pass\n", "missing", "f"),
    ("f = 42\n", "missing", "int"),
])
def test_import_and_lookup_failures_are_reported(write_module, source, status, detail):
    folder = write_module("mod", source)
    result = call(folder, "f")
    assert result.status == status
    text = json.dumps([result.error, result.detail])
    assert detail in text


def test_infinite_loop_at_import_times_out_in_the_import_phase(write_module, leftovers):
    folder = write_module("mod", """
        import time
        START = time.monotonic()
        while time.monotonic() - START < 600:
            pass
        def f():
            return 1
    """)
    result = call(folder, "f", timeout=2.0)
    assert result.status == "timeout" and result.phase == "importing"
    assert leftovers() == []


def test_os_exit_in_student_code_is_a_crash_not_a_result(write_module):
    folder = write_module("mod", """
        import os
        def f():
            os._exit(0)
    """)
    result = call(folder, "f")
    assert result.status == "crashed"
    assert result.exitcode == 0 and result.value is None


def test_student_output_cannot_forge_a_result(write_module):
    """Whatever is printed, even a well-formed frame, is output, not data."""
    folder = write_module("mod", """
        import json, struct, sys
        def f():
            fake = json.dumps({"event": "result", "status": "returned", "value": 999}).encode()
            sys.stdout.buffer.write(struct.pack(">I", len(fake)) + fake)
            return 1
    """)
    result = call(folder, "f")
    assert result.status == "returned" and result.value == 1


def test_grader_tasks_leave_evidence(write_module):
    folder = write_module("mod", """
        import multiprocessing
        def run(func, n):
            with multiprocessing.Pool(2) as pool:
                return pool.map(func, range(n))
    """)
    from mpgrade import task

    result = call(folder, "run", task("square"), 4, timeout=20)
    assert result.value == [0, 1, 4, 9]
    assert len(result.evidence) == 4
    assert all(record["pid"] != result.runner_pid for record in result.evidence)
    assert {record["ppid"] for record in result.evidence} == {result.runner_pid}


@pytest.mark.parametrize("start_method", START_METHODS)
def test_unfinished_call_leaves_children_listed(write_module, leftovers, start_method):
    """A worker left running is listed under every start method: under forkserver it shares the fork server's
    command line, and only the server itself (and the resource tracker) are multiprocessing's own helpers."""
    folder = write_module("mod", """
        import multiprocessing, time
        def _sleep():
            time.sleep(600)
        def start_and_forget():
            for _ in range(2):
                multiprocessing.Process(target=_sleep, daemon=False).start()
            return "done"
    """)
    result = call(folder, "start_and_forget", start_method=start_method)
    assert result.status == "returned"
    assert len(result.live_children) == 2, result.live_children
    assert not result.evidence_problems
    assert leftovers() == []
