"""The template: supervisors forked from it behave as fresh ones, and nothing of a call outlives it or its owner."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import psutil
import pytest

from mpgrade import CallRequest, run_call
from mpgrade.sandbox import template

pytestmark = pytest.mark.skipif(not template.usable(), reason="no template here: supervisors start fresh")

LINEAGE = """
    import os, time

    def _parent_of(pid):
        with open(f"/proc/{pid}/stat") as handle:
            return int(handle.read().rsplit(")", 1)[1].split()[1])

    def supervisor_parent():
        # runner -> supervisor -> whoever started the supervisor
        with open(f"/proc/{_parent_of(_parent_of(os.getpid()))}/cmdline", "rb") as handle:
            return handle.read().replace(b"\\0", b" ").decode()

    def sleep_after(path, seconds):
        open(path, "w").close()
        time.sleep(seconds)
"""


def call(folder: Path, target: str, *args, timeout: float = 10.0) -> object:
    # Outside bubblewrap's PID namespace, so the runner can see who started its supervisor.
    return run_call(CallRequest(folder, "mod", target, args=args, timeout_s=timeout, namespaces="off",
                                landlock="off"))  # student code here writes a mark in the test's folder


def test_supervisors_are_forked_from_the_template_and_fresh_when_switched_off(write_module, monkeypatch, leftovers):
    folder = write_module("mod", LINEAGE)
    warm = call(folder, "supervisor_parent")
    assert warm.status == "returned", warm
    assert template.__file__ in warm.value, warm.value
    monkeypatch.setenv(template.SWITCH, "off")
    fresh = call(folder, "supervisor_parent")
    assert fresh.status == "returned", fresh
    assert template.__file__ not in fresh.value and "pytest" in fresh.value, fresh.value
    assert leftovers() == []


def test_a_dead_template_is_replaced_on_the_next_call(write_module, leftovers):
    folder = write_module("mod", "def one():\n    return 1\n")
    assert call(folder, "one").value == 1
    first = template.shared().pid
    os.kill(first, signal.SIGKILL)
    psutil.Process(first).wait(5) if psutil.pid_exists(first) else None
    assert call(folder, "one").value == 1
    assert template.shared().pid not in (None, first)
    assert leftovers() == []


def test_the_template_dying_mid_call_stops_the_call(write_module, tmp_path, leftovers):
    """Its supervisor gets SIGTERM (PR_SET_PDEATHSIG) and kills the call's tree; the launcher returns at once."""
    folder = write_module("mod", LINEAGE)
    call(folder, "supervisor_parent")  # the template is up
    pid, began_file = template.shared().pid, tmp_path / "began"

    def kill_when_begun() -> None:
        for _ in range(500):
            if began_file.exists():
                os.kill(pid, signal.SIGKILL)
                return
            time.sleep(0.02)

    killer = threading.Thread(target=kill_when_begun)
    killer.start()
    began = time.monotonic()
    result = call(folder, "sleep_after", str(began_file), 120, timeout=60.0)
    elapsed = time.monotonic() - began
    killer.join()
    assert began_file.exists()
    assert result.status != "returned" and elapsed < 20, (result, elapsed)
    assert leftovers() == []


GRADING_PROCESS = """
import sys
from pathlib import Path
from mpgrade import CallRequest, run_call
from mpgrade.sandbox import template

folder, began = Path(sys.argv[1]), sys.argv[2]
run_call(CallRequest(folder, "mod", "supervisor_parent", namespaces="off"))
print(template.shared().pid, flush=True)
run_call(CallRequest(folder, "mod", "sleep_after", args=(began, 120), timeout_s=60.0, namespaces="off",
                     landlock="off"))
"""


def test_a_killed_grading_process_takes_its_template_and_call_down(write_module, tmp_path, leftovers):
    folder = write_module("mod", LINEAGE)
    began_file = tmp_path / "began"
    grading = subprocess.Popen([sys.executable, "-c", textwrap.dedent(GRADING_PROCESS), str(folder), str(began_file)],
                               stdout=subprocess.PIPE, text=True)
    template_pid = int(grading.stdout.readline())
    for _ in range(500):
        if began_file.exists():
            break
        time.sleep(0.02)
    assert began_file.exists()
    supervisors = psutil.Process(template_pid).children()
    assert len(supervisors) == 1
    grading.kill()
    grading.wait()
    gone, alive = psutil.wait_procs([psutil.Process(template_pid), *supervisors], timeout=15)
    alive = [proc for proc in alive if proc.status() != psutil.STATUS_ZOMBIE]
    assert alive == []
    deadline = time.monotonic() + 15
    while leftovers() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert leftovers() == []


FRESHNESS = """
    import multiprocessing, os, random, sys

    def _cmdline(pid="self"):
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return handle.read().replace(b"\\0", b" ").decode()

    def _child_main(queue):
        queue.put(getattr(sys.modules["__main__"], "__file__", None))

    def state():
        queue = multiprocessing.get_context("spawn").Queue()
        child = multiprocessing.get_context("spawn").Process(target=_child_main, args=(queue,))
        child.start()
        child_main = queue.get(timeout=20)
        child.join()
        return {
            "cmdline": _cmdline(), "main_file": getattr(sys.modules["__main__"], "__file__", None),
            "child_main_file": child_main, "child_exitcode": child.exitcode,
            "outside": sorted(name for name, module in sys.modules.items()
                              if getattr(module, "__file__", None) and "graders" in module.__file__),
            "authkey": bytes(multiprocessing.current_process().authkey).hex(), "random": random.random(),
            "own_session": os.getsid(0) == os.getpid(), "no_bytecode": sys.dont_write_bytecode,
            "cwd_is_call_folder": os.path.basename(os.getcwd()) == "cwd",
            "mark": os.environ.get("MPGRADE_CALL"),
        }
"""


def test_outside_a_namespace_the_runner_is_forked_warm_yet_starts_as_a_fresh_one_would(write_module, leftovers):
    folder = write_module("mod", FRESHNESS)
    first, second = (call(folder, "state", timeout=30) for _ in range(2))
    for result in (first, second):
        assert result.status == "returned", (result.status, result.stderr.text)
        state = result.value
        assert template.__file__ in state["cmdline"], state["cmdline"]  # forked from the template's supervisor
        assert state["main_file"] is None and state["child_main_file"] is None and state["child_exitcode"] == 0
        assert state["outside"] == [], state["outside"]  # neither the supervisor nor the template is importable
        assert state["own_session"] and state["no_bytecode"] and state["cwd_is_call_folder"]
        assert len(state["mark"]) == 32
    assert first.value["authkey"] != second.value["authkey"] and first.value["random"] != second.value["random"]
    assert first.value["mark"] != second.value["mark"]
    assert leftovers() == []


def test_the_runner_is_a_fresh_interpreter_when_switched_off_or_inside_bubblewrap(write_module, monkeypatch):
    from mpgrade.sandbox import namespaces

    folder = write_module("mod", FRESHNESS)
    if namespaces.available()[0]:
        boxed = run_call(CallRequest(folder, "mod", "state", timeout_s=30, namespaces="auto"))
        assert boxed.status == "returned", boxed.stderr.text
        assert " -c " in boxed.value["cmdline"] and template.__file__ not in boxed.value["cmdline"]
    monkeypatch.setenv(template.SWITCH, "off")
    fresh = call(folder, "state", timeout=30)
    assert fresh.status == "returned", fresh.stderr.text
    assert " -c " in fresh.value["cmdline"] and template.__file__ not in fresh.value["cmdline"]


ORPHANS = """
    import multiprocessing, os, signal, time

    def _hide(path):
        os.setsid()  # out of the runner's session too: only the process tree still ties it to the call
        if os.fork() == 0:
            open(path, "w").close()
            time.sleep(120)
        os._exit(0)

    def orphan_then_kill_supervisor(path):
        multiprocessing.get_context("fork").Process(target=_hide, args=(path,)).start()
        for _ in range(500):
            if os.path.exists(path):
                break
            time.sleep(0.01)
        os.kill(os.getppid(), signal.SIGKILL)
        time.sleep(120)
"""


def test_what_a_killed_supervisor_left_is_stopped_by_the_template_before_it_reports_it_gone(
        write_module, tmp_path, leftovers):
    """No mark in the environment finds a warm runner's processes (its /proc/PID/environ is the template's, empty):
    the kernel re-parents them to the template, their subreaper, which stops them."""
    folder = write_module("mod", ORPHANS)
    began = time.monotonic()
    result = call(folder, "orphan_then_kill_supervisor", str(tmp_path / "hidden"), timeout=60.0)
    elapsed = time.monotonic() - began
    assert (tmp_path / "hidden").exists()  # the setsid'd grandchild ran
    assert result.status == "crashed" and result.detail.get("supervisor_killed"), (result.status, result.detail)
    assert elapsed < 20, elapsed
    assert leftovers() == [], leftovers()
    assert [p for p in psutil.Process(template.shared().pid).children() if p.status() != psutil.STATUS_ZOMBIE] == []


def test_a_warm_runner_is_forked_before_its_supervisor_holds_its_call(write_module):
    """The runner's memory has the template's modules and its own start message, not the supervisor's config,
    witness or write meter: none of the supervisor's objects exist in it."""
    folder = write_module("mod", """
        import gc, sys

        def held():
            kinds = {type(o).__name__ for o in gc.get_objects()}
            return {"witness": "Witness" in kinds, "meter": "WriteMeter" in kinds,
                    "config": "SupervisorConfig" in kinds, "supervisor": "supervisor" in sys.modules}
    """)
    result = call(folder, "held", timeout=30)
    assert result.status == "returned", (result.status, result.stderr.text)
    assert result.value == {"witness": False, "meter": False, "config": False, "supervisor": False}, result.value
