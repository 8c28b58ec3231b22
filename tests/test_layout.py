"""The engine's shape: no import circle among its modules, counting imports inside functions too."""
from __future__ import annotations

import ast
from pathlib import Path

from conftest import KIT_ROOT

GRADERS = KIT_ROOT / "graders"


def engine_modules() -> dict[str, Path]:
    found = {}
    for path in GRADERS.rglob("*.py"):
        relative = path.relative_to(GRADERS).with_suffix("")
        if relative.parts[0] not in ("mpgrade", "mpgrade_sandboxed") or "platforms" in relative.parts:
            continue  # the platform scripts run outside the engine (stdlib only)
        parts = relative.parts[:-1] if relative.name == "__init__" else relative.parts
        found[".".join(parts)] = path
    return found


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """Engine modules ``name`` imports anywhere in its file."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            for alias in node.names:
                target = f"{module}.{alias.name}"
                found.add(target if target in modules else module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {m for m in found if m in modules and m != name and not name.startswith(m + ".")}


def test_no_import_circle_in_the_engine():
    modules = engine_modules()
    graph = {name: imports_of(name, path, modules) for name, path in modules.items()}
    assert graph["mpgrade.batch.grade"] and graph["mpgrade_sandboxed.runner"]  # the walk sees imports at all
    circles = []

    def visit(node: str, path: list[str], done: set[str]) -> None:
        for nxt in sorted(graph[node]):
            if nxt in path:
                circles.append(path[path.index(nxt):] + [nxt])
            elif nxt not in done:
                done.add(nxt)
                visit(nxt, path + [nxt], done)

    for start in sorted(graph):
        visit(start, [start], {start})
    assert circles == [], "\n".join(" -> ".join(c) for c in circles)


def test_an_engine_module_past_300_lines_says_why_in_its_docstring():
    import ast

    from mpgrade.settings import GRADERS_DIR

    long = []
    for path in [*GRADERS_DIR.glob("mpgrade/**/*.py"), *GRADERS_DIR.glob("mpgrade_sandboxed/*.py")]:
        text = path.read_text(encoding="utf-8")
        if text.count("\n") > 300 and "300 lines" not in (ast.get_docstring(ast.parse(text)) or ""):
            long.append(str(path.relative_to(GRADERS_DIR)))
    assert long == [], f"split these by responsibility, or say in their docstring why they run past 300 lines: {long}"


# The packages by role, bottom to top, and what each may import from the rest of the kit (besides itself and
# the base modules). README's "How it works" draws the same picture. The grading process's front door
# (mpgrade/__init__.py), the command line (cli, __main__) and the platform scripts sit above all of them.
BASE = {"mpgrade.settings", "mpgrade.outcomes", "mpgrade.answers"}
TOP = {"mpgrade", "mpgrade.cli", "mpgrade.__main__"}
MAY_IMPORT = {
    "mpgrade_sandboxed": set(),  # runs next to student code: nothing of the trusted side, not even settings
    "mpgrade.sandbox": {"mpgrade_sandboxed"},
    "mpgrade.verdicts": {"mpgrade_sandboxed", "mpgrade.sandbox"},
    "mpgrade.reporters": set(),
    "mpgrade.course": {"mpgrade_sandboxed", "mpgrade.reporters"},
    "mpgrade.grading": {"mpgrade_sandboxed", "mpgrade.sandbox", "mpgrade.verdicts", "mpgrade.course", "mpgrade.reporters"},
    "mpgrade.batch": {"mpgrade.sandbox", "mpgrade.verdicts", "mpgrade.grading", "mpgrade.course", "mpgrade.reporters"},
}


def package_of(module: str) -> str:
    """The role a module belongs to: its package in MAY_IMPORT, a base module, or the top."""
    if module in BASE or module in TOP:
        return module
    for package in sorted(MAY_IMPORT, key=len, reverse=True):
        if module == package or module.startswith(package + "."):
            return package
    return "unplaced"


def direction_violations(graph: dict[str, set[str]]) -> list[str]:
    wrong = []
    for module, targets in sorted(graph.items()):
        mine = package_of(module)
        if mine in TOP:
            continue
        allowed = {mine} | MAY_IMPORT.get(mine, set()) | (BASE if mine != "mpgrade_sandboxed" else set())
        if mine in BASE:
            allowed = {mine}
        for target in sorted(targets):
            if package_of(target) not in allowed:
                wrong.append(f"{module} imports {target}")
    return wrong


def test_every_engine_module_has_a_place_in_the_layout():
    unplaced = [m for m in engine_modules() if package_of(m) == "unplaced" and not m.startswith("mpgrade.platforms")]
    assert unplaced == [], f"put these in a package by role (see MAY_IMPORT) or among the base modules: {unplaced}"


def test_imports_go_down_the_layers_only():
    modules = engine_modules()
    graph = {name: imports_of(name, path, modules) for name, path in modules.items()}
    assert "mpgrade.sandbox.cpulock" in graph["mpgrade.verdicts.speedup"]  # the walk sees cross-package imports
    # A planted wrong turn is caught, so the rule below can fail.
    assert direction_violations({"mpgrade.verdicts.races": {"mpgrade.batch.grade"}}) == [
        "mpgrade.verdicts.races imports mpgrade.batch.grade"]
    assert direction_violations({"mpgrade_sandboxed.runner": {"mpgrade.settings"}})
    assert direction_violations(graph) == []


def test_graders_use_the_front_door_only():
    """Graders import what ``mpgrade`` exports (and ``mpgrade.grading.direct``, to run one check as a script)."""
    private = []
    for path in sorted(GRADERS.glob("test_ex*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            modules = ([node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level
                       else [a.name for a in node.names] if isinstance(node, ast.Import) else [])
            for module in modules:
                if module.startswith("mpgrade") and module not in ("mpgrade", "mpgrade.grading.direct"):
                    private.append(f"{path.name}:{node.lineno} imports {module}")
    assert len(list(GRADERS.glob("test_ex*.py"))) == 10
    assert private == [], private
