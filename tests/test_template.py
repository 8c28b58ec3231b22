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
    return run_call(CallRequest(folder, "mod", target, args=args, timeout_s=timeout, namespaces="off"))


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
run_call(CallRequest(folder, "mod", "sleep_after", args=(began, 120), timeout_s=60.0, namespaces="off"))
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
