"""Adding an exercise takes two files: a solution with markers and a grader that declares itself.

A temporary copy of the kit gets an eleventh exercise and nothing else; the
stub, the exercise table, the guard check, the points total, the release and
the exported workflow all follow from those two files, and grading it end to
end gives full points to the solution and none to the stub.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import KIT_ROOT

SOLUTION = '''\
"""Exercise 11: the sum of squares, computed by a Pool."""
from __future__ import annotations

import multiprocessing


def square(n: int) -> int:
    return n * n


def sum_of_squares(numbers: list[int], processes: int = 2) -> int:
    """Return the sum of ``n * n`` over ``numbers``, the squares computed by a Pool's workers."""
    # BEGIN SOLUTION: square the numbers in a multiprocessing.Pool(processes), then add them up
    with multiprocessing.Pool(processes) as pool:
        return sum(pool.map(square, numbers))
    # END SOLUTION


if __name__ == "__main__":
    print(sum_of_squares(list(range(10))))
'''

GRADER = '''\
"""Grader for exercise 11: the sum of squares, computed by a Pool."""
from __future__ import annotations

import pytest

from mpgrade import Exercise, calls, check

EXERCISE = Exercise(
    title="the sum of squares, computed by a Pool",
    points=POINTS,
    hidden_points=1,
    you_write="`sum_of_squares`",
    goals="`Pool.map` and adding up its results",
)


@pytest.mark.points(2)
def test_sum_is_right(student, rng):
    """sum_of_squares returns the sum of the squares"""
    numbers = [rng.randrange(-100, 100) for _ in range(8)]
    got = student.call("sum_of_squares", numbers).value
    check(got == sum(n * n for n in numbers), f"sum_of_squares returned {got!r}")


@pytest.mark.points(1)
def test_uses_a_pool(student):
    """the squares are computed by a multiprocessing.Pool"""
    result = student.call("sum_of_squares", [1, 2, 3])
    check(calls(result, "Pool.__init__") == 1, "sum_of_squares does not create a multiprocessing.Pool")
'''

HIDDEN = '''\
"""Hidden checks for exercise 11 (never in the student release)."""
import pytest

from mpgrade import check

pytestmark = pytest.mark.hidden


@pytest.mark.points(1)
def test_empty_input(student):
    """sum_of_squares of no numbers is 0"""
    check(student.call("sum_of_squares", []).value == 0, "sum_of_squares([]) should be 0")
'''


@pytest.fixture(scope="module")
def kit_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The kit's exercises, solutions, graders and pyproject, plus exercise 11's two files (and hidden checks)."""
    root = tmp_path_factory.mktemp("kit")
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", ".pytest_cache")
    for folder in ("exercises", "solutions", "graders"):
        shutil.copytree(KIT_ROOT / folder, root / folder, ignore=ignore)
    shutil.copy2(KIT_ROOT / "pyproject.toml", root / "pyproject.toml")
    (root / "solutions" / "ex11_squares.py").write_text(SOLUTION, encoding="utf-8")
    (root / "graders" / "test_ex11_squares.py").write_text(GRADER.replace("POINTS", "5"), encoding="utf-8")
    (root / "graders" / "hidden").mkdir()
    (root / "graders" / "hidden" / "test_ex11_squares_hidden.py").write_text(HIDDEN, encoding="utf-8")
    return root


def mpgrade(kit: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """The copy's own ``mpgrade`` (its engine first on the path, as an installed kit would be)."""
    env = {**os.environ, "PYTHONPATH": str(kit / "graders")}
    return subprocess.run([sys.executable, "-m", "mpgrade", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=kit, env=env)


def test_the_stub_and_the_table_come_from_the_two_files(kit_copy):
    done = mpgrade(kit_copy, "stubs")
    assert done.returncode == 0, done.stderr
    stub = (kit_copy / "exercises" / "ex11_squares.py").read_text(encoding="utf-8")
    assert "# TODO: square the numbers in a multiprocessing.Pool(processes)" in stub and "pool.map" not in stub
    table = (kit_copy / "exercises" / "README.md").read_text(encoding="utf-8")
    assert "| 11 | `ex11_squares.py` | `sum_of_squares` | `Pool.map` and adding up its results | 5 |" in table
    assert mpgrade(kit_copy, "stubs", "--check").returncode == 0


def test_the_eleventh_exercise_is_graded_end_to_end(kit_copy, tmp_path):
    assert mpgrade(kit_copy, "stubs").returncode == 0
    for label, expected in (("solutions", 5), ("exercises", 0)):
        report_path = tmp_path / f"{label}.json"
        done = mpgrade(kit_copy, "check", "ex11", "--submission", str(kit_copy / label), "--report", str(report_path))
        report = json.loads(report_path.read_text(encoding="utf-8"))
        exercise = report["exercises"]["ex11_squares"]
        assert (exercise["score"], exercise["max_score"]) == (expected, 5), done.stdout[-3000:]
        names = [c["id"].split("::")[-1] for c in exercise["checks"]]
        assert names == ["test_sum_is_right", "test_uses_a_pool", "test_main_guard", "test_empty_input"]
        assert [c.get("hidden", False) for c in exercise["checks"]] == [False, False, False, True]
    release = tmp_path / "release"
    assert mpgrade(kit_copy, "release", str(release)).returncode == 0
    assert (release / "exercises" / "ex11_squares.py").is_file()
    assert (release / "graders" / "test_ex11_squares.py").is_file()
    assert not (release / "graders" / "hidden").exists()
    workflow = (release / ".github" / "workflows" / "classroom.yml").read_text(encoding="utf-8")
    assert "mpgrade check ex01 ex02 ex03 ex04 ex05 ex06 ex07 ex08 ex09 ex10 ex11 --github-output" in workflow
    assert "EX11_RESULTS: ${{ steps.grade.outputs.ex11 }}" in workflow and "runners: ex01,ex02" in workflow


@pytest.mark.parametrize("declaration, says", [
    ({"POINTS": "6"}, "test_ex11_squares.py: its checks are worth 3 + 1 for the generated guard check, but its "
                      "EXERCISE declares 6 points, 1 of them in hidden checks"),
    ({"POINTS": "6", "hidden_points=1": "hidden_points=2"},
     "test_ex11_squares_hidden.py: its hidden checks are worth 1, but the exercise declares hidden_points=2"),
])
def test_points_that_do_not_add_up_fail_collection_with_the_graders_name(kit_copy, declaration, says):
    grader = kit_copy / "graders" / "test_ex11_squares.py"
    text = GRADER.replace("POINTS", "5")
    for old, new in declaration.items():
        text = text.replace(old if old != "POINTS" else "points=5", new if old != "POINTS" else f"points={new}")
    grader.write_text(text, encoding="utf-8")
    try:
        env = {**os.environ, "PYTHONPATH": str(kit_copy / "graders")}
        done = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
                               "graders/test_ex11_squares.py", "graders/hidden/test_ex11_squares_hidden.py"],
                              capture_output=True, text=True, cwd=kit_copy, env=env, timeout=120)
    finally:
        grader.write_text(GRADER.replace("POINTS", "5"), encoding="utf-8")
    assert done.returncode != 0
    assert says in done.stdout, done.stdout
