"""What the exercises are, read from their graders' declarations (trusted side; runs no grader code).

Each grader module ``graders/test_exNN_name.py`` declares its exercise once,
next to its checks, as otter-grader declares points with the question::

    EXERCISE = Exercise(
        title="a child process served over a Pipe",
        points=10,
        you_write="`squarer`, `square_via_pipe`",
        goals="`Pipe` ends, `send`/`recv` in order, a stop message, closing ends",
    )

Everything else is derived from these declarations: the generated
``test_main_guard`` check (``guard_points``), the points check at collection
(:func:`points_problem`), which exercises exist (``mpgrade check``, the
release and the platform exports), each exercise's maximum score, and the
exercise table in ``exercises/README.md`` (:func:`table`, written by
``mpgrade stubs``). The declarations are read with ``ast`` (literals only),
so listing the exercises never imports a grader.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass, fields
from pathlib import Path

from mpgrade.settings import KIT_ROOT

DECLARATION = "EXERCISE"
HIDDEN_MARK = "pytestmark = pytest.mark.hidden"


@dataclass(frozen=True)
class Exercise:
    """One exercise, as its grader module declares it (``EXERCISE = Exercise(...)``)."""

    title: str
    """What the student builds, in a few words (the grader's first docstring line says it too)."""
    points: int
    """The exercise's total: its checks' ``points`` marks, the guard check and any hidden checks."""
    you_write: str = ""
    """The names the student writes, for the exercise table (Markdown)."""
    goals: str = ""
    """What the student learns, for the exercise table (Markdown)."""
    guard_points: int = 1
    """Points of the generated ``test_main_guard`` check (safe under spawn and forkserver); 0 for none."""
    hidden_points: int = 0
    """Points of the checks in ``graders/hidden/test_<exercise>_hidden.py``, which students never see."""


@dataclass(frozen=True)
class Declared:
    """An exercise and where it is declared."""

    name: str
    """``ex04_pipe``: the module students fill in, and the grader's name without ``test_``."""
    grader: Path
    exercise: Exercise

    @property
    def number(self) -> int:
        return int(self.name[2:].split("_")[0])


class DeclarationError(ValueError):
    """A grader module whose declaration is missing or not made of literals."""


def is_hidden(grader: Path) -> bool:
    """A grader module students must not see."""
    return "hidden" in grader.parts[-2:-1] or HIDDEN_MARK in grader.read_text(encoding="utf-8")


def read_declaration(grader: Path) -> Exercise:
    """The ``EXERCISE = Exercise(...)`` of a grader module, read without running it."""
    tree = ast.parse(grader.read_text(encoding="utf-8"), str(grader))
    for node in tree.body:
        if (isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == [DECLARATION]
                and isinstance(node.value, ast.Call) and getattr(node.value.func, "id", None) == "Exercise"):
            if node.value.args:
                raise DeclarationError(f"{grader.name}:{node.lineno}: declare the exercise with keywords only")
            known = {f.name for f in fields(Exercise)}
            values = {}
            for keyword in node.value.keywords:
                if keyword.arg not in known:
                    raise DeclarationError(f"{grader.name}:{node.lineno}: Exercise() has no field {keyword.arg!r}")
                try:
                    values[keyword.arg] = ast.literal_eval(keyword.value)
                except ValueError:
                    raise DeclarationError(f"{grader.name}:{keyword.value.lineno}: {keyword.arg} must be a "
                                           "literal (the declaration is read without running the grader)") from None
            try:
                return Exercise(**values)
            except TypeError as exc:
                raise DeclarationError(f"{grader.name}:{node.lineno}: {exc}") from None
    raise DeclarationError(f"{grader.name}: no `{DECLARATION} = Exercise(...)` declaration at the top level")


def declared(kit: Path = KIT_ROOT) -> list[Declared]:
    """Every exercise of the kit: a visible grader module with a declaration, in order."""
    found = []
    for grader in sorted((kit / "graders").glob("test_ex*.py")):
        if not is_hidden(grader):
            found.append(Declared(grader.stem.removeprefix("test_"), grader, read_declaration(grader)))
    return found


def hidden_grader(name: str, kit: Path = KIT_ROOT) -> Path:
    """Where exercise ``name``'s hidden checks live (the file may not exist)."""
    return kit / "graders" / "hidden" / f"test_{name}_hidden.py"


def grader_files(name: str, kit: Path = KIT_ROOT) -> list[Path]:
    """The grader modules of exercise ``name``: its grader and, where the kit has them, its hidden checks."""
    hidden = hidden_grader(name, kit)
    return [kit / "graders" / f"test_{name}.py", *([hidden] if hidden.is_file() else [])]


def names(kit: Path = KIT_ROOT) -> list[str]:
    """The exercises' names (``ex01_processes``, ...)."""
    return [d.name for d in declared(kit)]


def select(wanted: list[str] | None, kit: Path = KIT_ROOT) -> list[str]:
    """Full exercise names for ``wanted`` (``ex01``, ``ex01_processes`` or ``ex01_processes.py``), all if empty."""
    available = names(kit)
    chosen = []
    for name in wanted or available:
        name = name.removesuffix(".py").removeprefix("test_")
        matches = [e for e in available if e == name or e.startswith(f"{name}_")]
        if len(matches) != 1:
            raise ValueError(f"unknown exercise {name!r}; choose from {', '.join(available)}")
        chosen.append(matches[0])
    return chosen


def points_of(kit: Path = KIT_ROOT) -> dict[str, int]:
    """Each exercise's maximum score."""
    return {d.name: d.exercise.points for d in declared(kit)}


def points_problem(grader: str, exercise: Exercise, worth: float, hidden: bool = False) -> str:
    """Why a grader module's checks (``worth`` points, the guard left out) do not add up to its exercise's
    declaration, or "" when they do (pure). A hidden module must add up to ``hidden_points``."""
    if hidden:
        if abs(worth - exercise.hidden_points) > 1e-9:
            return (f"{grader}: its hidden checks are worth {worth:g}, but the exercise declares "
                    f"hidden_points={exercise.hidden_points}; fix the points marks or the declaration")
        return ""
    expected = exercise.points - exercise.hidden_points
    if abs(worth + exercise.guard_points - expected) > 1e-9:
        guard = f" + {exercise.guard_points} for the generated guard check" if exercise.guard_points else ""
        hidden_part = f", {exercise.hidden_points} of them in hidden checks" if exercise.hidden_points else ""
        return (f"{grader}: its checks are worth {worth:g}{guard}, but its EXERCISE declares "
                f"{exercise.points} points{hidden_part}; fix the points marks or the declaration")
    return ""


def table(kit: Path = KIT_ROOT) -> str:
    """The exercise table for ``exercises/README.md`` (Markdown)."""
    rows = ["| # | module | you write | learning goals | points |", "|---|---|---|---|---|"]
    for d in declared(kit):
        e = d.exercise
        rows.append(f"| {d.number} | `{d.name}.py` | {e.you_write} | {e.goals} | {e.points} |")
    return "\n".join(rows) + "\n"
