"""The optional namespace sandbox: a probe decides, and inside it the kit is out of reach."""
from __future__ import annotations

from pathlib import Path

import pytest

from mpgrade.sandbox import namespaces
from mpgrade.sandbox.launcher import CallRequest, run_call
from mpgrade.settings import KIT_ROOT

SNOOP = """
import os, socket

def look(solution, outside):
    seen = {"solution": os.path.exists(solution)}
    try:
        with open(outside, "w") as handle:
            handle.write("x")
        seen["wrote_outside"] = True
    except OSError:
        seen["wrote_outside"] = False
    try:
        socket.create_connection(("1.1.1.1", 53), timeout=2).close()
        seen["network"] = True
    except OSError:
        seen["network"] = False
    return seen
"""


@pytest.fixture
def fresh_probe():
    namespaces.reset_probe()
    yield
    namespaces.reset_probe()


def test_without_bwrap_the_note_says_why(fresh_probe, monkeypatch):
    monkeypatch.setattr(namespaces, "_bwrap", lambda: None)
    works, note = namespaces.available()
    assert not works and "bwrap (bubblewrap) is not installed" in note
    assert not namespaces.wanted("auto")


def test_off_means_off_even_where_bwrap_works(fresh_probe, monkeypatch):
    monkeypatch.setattr(namespaces, "_run_probe", lambda: (True, "works"))
    assert namespaces.wanted("auto") and not namespaces.wanted("off")
    assert "off" in namespaces.environment_note("off")


def test_inside_bwrap_the_kit_is_hidden_and_files_and_network_are_closed(write_module, tmp_path):
    works, note = namespaces.available()
    if not works:
        pytest.skip(note)
    folder = write_module("snoop", SNOOP)
    solution = str(KIT_ROOT / "solutions" / "ex01_processes.py")
    outside = str(tmp_path / "written-from-the-sandbox.txt")
    inside = run_call(CallRequest(folder, "snoop", "look", args=(solution, outside)))
    assert inside.status == "returned", inside
    assert inside.value == {"solution": False, "wrote_outside": False, "network": False}
    assert not Path(outside).exists()
    plain = run_call(CallRequest(folder, "snoop", "look", args=(solution, outside), namespaces="off"))
    assert plain.value["solution"] is True  # process-level only: same user, same files (see the threat model)
