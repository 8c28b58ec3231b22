"""Stubs are generated from the solutions: one source of truth."""
from __future__ import annotations

import ast

import pytest

from conftest import KIT_ROOT
from mpgrade.course.curriculum import table
from mpgrade.course.stubs import MarkerError, generate, make_stub, solution_lines

SOLUTION = '''\
def add(a: int, b: int) -> int:
    """Add two numbers."""
    # BEGIN SOLUTION: return the sum
    return a + b
    # END SOLUTION


class Box:
    def __init__(self):
        # BEGIN SOLUTION
        self.items = []
        # END SOLUTION
'''


def test_blocks_become_todo_and_raise_at_their_indentation():
    stub = make_stub(SOLUTION)
    assert "return a + b" not in stub and "self.items" not in stub
    assert '    """Add two numbers."""\n    # TODO: return the sum\n    raise NotImplementedError\n' in stub
    assert "        # TODO: write this part\n        raise NotImplementedError\n" in stub
    assert "def add(a: int, b: int) -> int:" in stub
    ast.parse(stub)


@pytest.mark.parametrize("source, message", [
    ("# BEGIN SOLUTION\nx = 1\n", "never closed"),
    ("x = 1\n# END SOLUTION\n", "without BEGIN"),
    ("# BEGIN SOLUTION\n# BEGIN SOLUTION\n# END SOLUTION\n", "inside the block"),
])
def test_unpaired_markers_are_errors(source, message):
    with pytest.raises(MarkerError, match=message):
        make_stub(source)


def test_committed_stubs_are_what_the_generator_makes():
    stale = generate(KIT_ROOT / "solutions", KIT_ROOT / "exercises", check_only=True, table=table())
    assert stale == [], f"run `mpgrade stubs` to regenerate {stale}"


def test_every_solution_has_a_stub_that_parses_and_leaks_nothing():
    solutions = sorted((KIT_ROOT / "solutions").glob("ex*.py"))
    assert solutions
    for solution in solutions:
        stub = (KIT_ROOT / "exercises" / solution.name).read_text()
        ast.parse(stub)
        stub_lines = {line.strip() for line in stub.splitlines()}
        secret = solution_lines(solution.read_text())
        assert secret, f"{solution.name} has no solution blocks"
        leaked = [line for line in secret if line in stub_lines and len(line) > 20]
        assert leaked == [], f"{solution.name}: solution lines in the stub: {leaked}"


def test_stale_stub_is_detected_and_rewritten(tmp_path):
    (tmp_path / "sol").mkdir()
    (tmp_path / "sol" / "ex09_demo.py").write_text(SOLUTION)
    assert generate(tmp_path / "sol", tmp_path / "ex") == ["ex09_demo.py"]
    assert generate(tmp_path / "sol", tmp_path / "ex", check_only=True) == []
    (tmp_path / "ex" / "ex09_demo.py").write_text("edited by hand\n")
    assert generate(tmp_path / "sol", tmp_path / "ex", check_only=True) == ["ex09_demo.py"]


def test_a_stub_section_replaces_the_raise():
    source = (
        "def increment(counter, n):\n"
        "    # BEGIN SOLUTION: hold the lock\n"
        "    for _ in range(n):\n"
        "        with counter.get_lock():\n"
        "            counter.value += 1\n"
        "    # STUB:\n"
        "    # for _ in range(n):\n"
        "    #     counter.value += 1\n"
        "    # END SOLUTION\n"
    )
    assert make_stub(source) == (
        "def increment(counter, n):\n"
        "    # TODO: hold the lock\n"
        "    for _ in range(n):\n"
        "        counter.value += 1\n"
    )
    assert solution_lines(source) == ["with counter.get_lock():"]  # the rest is in the stub anyway
