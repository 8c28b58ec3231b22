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
    assert graph["mpgrade.batch"] and graph["mpgrade_sandboxed.runner"]  # the walk sees imports at all
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
