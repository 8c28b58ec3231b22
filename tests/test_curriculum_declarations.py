"""Exercise declarations: read without running the grader, and the points check (pure)."""
from __future__ import annotations

import pytest

from mpgrade.course.curriculum import DeclarationError, Exercise, points_problem, read_declaration, select


def grader(tmp_path, body: str):
    path = tmp_path / "test_ex42_demo.py"
    path.write_text("from mpgrade import Exercise\n\n" + body, encoding="utf-8")
    return path


def test_a_declaration_is_read_as_literals_without_running_the_grader(tmp_path):
    path = grader(tmp_path, 'raise SystemExit("never run")\nEXERCISE = Exercise(title="t", points=6, '
                            'guard_points=0,\n    goals="a" "b")\n')
    assert read_declaration(path) == Exercise(title="t", points=6, guard_points=0, goals="ab")


@pytest.mark.parametrize("body, says", [
    ("POINTS = 3\nEXERCISE = Exercise(title='t', points=POINTS)\n", "points must be a literal"),
    ("EXERCISE = Exercise(title='t', points=3, colour='red')\n", "has no field 'colour'"),
    ("EXERCISE = Exercise('t', 3)\n", "keywords only"),
    ("EXERCISE = Exercise(points=3)\n", "title"),
    ("TITLE = 't'\n", "no `EXERCISE = Exercise(...)` declaration"),
])
def test_a_bad_declaration_names_the_grader_and_the_fix(tmp_path, body, says):
    with pytest.raises(DeclarationError, match="test_ex42_demo.py") as raised:
        read_declaration(grader(tmp_path, body))
    assert says in str(raised.value)


def test_points_add_up_with_the_guard_and_hidden_checks():
    declared = Exercise(title="t", points=10, guard_points=1, hidden_points=3)
    assert points_problem("test_ex42_demo.py", declared, 6) == ""
    assert points_problem("test_ex42_demo.py", declared, 3, hidden=True) == ""
    assert "worth 7 + 1 for the generated guard check" in points_problem("test_ex42_demo.py", declared, 7)
    assert "hidden checks are worth 2" in points_problem("test_ex42_demo.py", declared, 2, hidden=True)
    assert points_problem("g", Exercise(title="t", points=4, guard_points=0), 4) == ""


def test_exercises_are_chosen_by_short_or_full_name_and_an_unknown_one_is_named():
    assert select(["ex04", "ex01_processes", "test_ex02_pool.py"]) == ["ex04_pipe", "ex01_processes", "ex02_pool"]
    with pytest.raises(ValueError, match="unknown exercise 'ex77'; choose from ex01_processes"):
        select(["ex77"])
