"""Process trees: finding a process's descendants and stopping a session with everything under it."""
from __future__ import annotations

import subprocess
import sys
import time

from mpgrade_sandboxed import proctree

TREE = """
import signal, subprocess, sys, time
sleep = [sys.executable, "-c", "import time; time.sleep(600)"]
subprocess.Popen(sleep, start_new_session=True)        # left the session: only SIGTERM/SIGKILL by PID reach it
stubborn = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)"
subprocess.Popen([sys.executable, "-c", stubborn], start_new_session=True)
subprocess.Popen(sleep)
print("ready", flush=True)
time.sleep(600)
"""


def _start_tree() -> tuple[subprocess.Popen, list[int]]:
    leader = subprocess.Popen([sys.executable, "-c", TREE], stdout=subprocess.PIPE, start_new_session=True)
    assert leader.stdout.readline().strip() == b"ready"
    deadline = time.monotonic() + 10
    while len(tree := proctree.descendants(leader.pid)) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    return leader, tree


def test_stop_session_leaves_nothing_even_what_ignores_sigterm(leftovers):
    leader, tree = _start_tree()
    assert len(tree) == 3
    began = time.monotonic()
    proctree.stop_session(leader.pid, reap=leader.wait, grace_s=1.0)
    leader.stdout.close()
    assert leader.returncode is not None and time.monotonic() - began < 8
    assert leftovers() == []


def test_kill_session_kills_descendants_outside_the_session(leftovers):
    leader, _ = _start_tree()
    proctree.kill_session(leader.pid)
    leader.wait(timeout=10)
    leader.stdout.close()
    deadline = time.monotonic() + 10
    while leftovers() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert leftovers() == []
