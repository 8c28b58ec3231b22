"""Fixtures stored as parts: only what a student wrote, composed with the exercise's solution (mpgrade.course.parts)."""
from __future__ import annotations

import ast
import subprocess
import sys
import textwrap

import pytest

from conftest import KIT_ROOT, SUBMISSIONS, whole
from mpgrade.course.parts import PART_SUFFIX, compose, exercise_of, extract, whole_file

PARTS = sorted(SUBMISSIONS.rglob("*" + PART_SUFFIX))
SOLUTION = textwrap.dedent('''\
    """Exercise 0: the module docstring."""
    from __future__ import annotations

    import multiprocessing

    LIMIT = 3
    """How many."""


    def helper(x: int) -> int:
        """Given to the student."""
        return x + 1


    def work(items: list[int]) -> list[int]:
        # BEGIN SOLUTION: map helper over items
        return [helper(x) for x in items]
        # END SOLUTION


    def main() -> None:
        print(work([1, 2]))


    if __name__ == "__main__":
        main()
    ''')


def test_the_fixtures_are_stored_as_parts_and_none_holds_a_whole_copy():
    assert len(PARTS) >= 200
    for kind in ("mistakes", "correct", "races", "speedup"):
        for folder in (SUBMISSIONS / kind).iterdir():
            modules = [p.name for p in folder.glob("*.py")]
            assert len(modules) == 1 and modules[0].endswith(PART_SUFFIX), (folder, modules)


@pytest.mark.parametrize("part", PARTS, ids=lambda p: str(p.parent.relative_to(SUBMISSIONS)))
def test_a_stored_part_composes_and_holds_only_what_differs(part):
    solution = (KIT_ROOT / "solutions" / f"{exercise_of(part)}.py").read_text(encoding="utf-8")
    text = part.read_text(encoding="utf-8")
    composed = compose(solution, text)
    ast.parse(composed)
    # Nothing the solution already has: extracting the part again from the whole file gives the same part.
    assert extract(solution, composed) == text


def test_a_change_to_a_given_helper_reaches_every_entry_that_did_not_write_it():
    part = "def work(items: list[int]) -> list[int]:\n    return [helper(x) for x in reversed(items)]\n"
    before = compose(SOLUTION, part)
    after = compose(SOLUTION.replace("return x + 1", "return x + 2"), part)
    assert "return x + 1" in before and "return x + 2" in after
    assert "reversed(items)" in after and "# BEGIN SOLUTION" not in after
    assert after.count("def work") == 1


def test_directives_drop_place_and_replace():
    part = textwrap.dedent('''\
        # without: guard
        import multiprocessing
        import os

        # after: helper
        def extra() -> int:
            return os.getpid()


        # after: main
        main()
        ''')
    composed = compose(SOLUTION, part)
    assert "__main__" not in composed and "from __future__" not in composed  # guard dropped; imports are the part's
    assert composed.index("def helper") < composed.index("def extra") < composed.index("def work")
    assert composed.rstrip().endswith("print(work([1, 2]))\n\n\nmain()")
    assert extract(SOLUTION, composed).count("def extra") == 1
    with pytest.raises(ValueError, match="no top-level nothing"):
        compose(SOLUTION, "# without: nothing\n")
    with pytest.raises(ValueError, match="no top-level nothing"):
        compose(SOLUTION, "# after: nothing\nX = 1\n")


def test_an_unchanged_file_is_an_empty_part_and_a_module_docstring_is_replaceable():
    from mpgrade.course.stubs import make_solved

    assert extract(SOLUTION, make_solved(SOLUTION)) == ""
    composed = compose(SOLUTION, '"""Mine."""\n')
    assert composed.startswith('"""Mine."""\n') and "Exercise 0" not in composed


def test_one_command_shows_an_entry_whole_and_makes_the_part_of_a_file(tmp_path):
    entry = SUBMISSIONS / "mistakes" / "ex01_never_joined"
    shown = subprocess.run([sys.executable, "-m", "mpgrade.course.parts", "show", str(entry)],
                           capture_output=True, text=True, check=True).stdout
    assert shown == whole_file(next(entry.glob("*" + PART_SUFFIX)))
    assert shown == (whole(entry) / "ex01_processes.py").read_text(encoding="utf-8")
    (tmp_path / "ex01_processes.py").write_text(shown, encoding="utf-8")
    made = subprocess.run([sys.executable, "-m", "mpgrade.course.parts", "extract", str(tmp_path / "ex01_processes.py")],
                          capture_output=True, text=True, check=True).stdout
    assert made == next(entry.glob("*" + PART_SUFFIX)).read_text(encoding="utf-8")
