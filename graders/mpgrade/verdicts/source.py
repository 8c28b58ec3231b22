"""The student's file, parsed with ``ast`` and never imported (trusted side).

Where the file calls a method and in which function, what its ``__main__``
guard holds, and which ``with`` block a line comes after: evidence for
feedback (``diagnose.py``, ``feedback.py``) that needs no sandbox.
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class SourceCall:
    """A call in the student's file."""

    line: int
    source: str
    function: str | None
    """The function it is in (None at the top level)."""
    in_finally: bool
    """It sits in a ``finally:`` block."""


def _tree(path: Path) -> tuple[ast.Module, list[str]] | None:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
        return ast.parse(text), text.splitlines()
    except (OSError, SyntaxError, ValueError):
        return None


def calls_in_source(path: Path, method: str) -> list[SourceCall]:
    """Every call of ``.method(...)`` (or ``method(...)``) in the student's file, with its function."""
    parsed = _tree(path)
    if parsed is None:
        return []
    tree, lines = parsed
    found: list[SourceCall] = []

    def visit(node: ast.AST, function: str | None, in_finally: bool) -> None:
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if name == method:
                source = lines[node.lineno - 1].strip() if node.lineno - 1 < len(lines) else ""
                found.append(SourceCall(node.lineno, source[:200], function, in_finally))
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            function = node.name
        if isinstance(node, ast.Try):
            for child in node.body + node.orelse + [h for h in node.handlers]:
                visit(child, function, in_finally)
            for child in node.finalbody:
                visit(child, function, True)
            return
        for child in ast.iter_child_nodes(node):
            visit(child, function, in_finally)

    visit(tree, None, False)
    return sorted(found, key=lambda c: c.line)


def _is_guard(node: ast.stmt) -> bool:
    if not isinstance(node, ast.If) or not isinstance(node.test, ast.Compare):
        return False
    sides = [node.test.left, *node.test.comparators]
    return any(isinstance(s, ast.Name) and s.id == "__name__" for s in sides)


def guard_blocks(path: Path) -> list[tuple[ast.If, str | None]]:
    """The top-level ``if __name__ == ...:`` blocks, each with the string it compares to."""
    parsed = _tree(path)
    if parsed is None:
        return []
    blocks = []
    for node in parsed[0].body:
        if _is_guard(node):
            sides = [node.test.left, *node.test.comparators]  # type: ignore[attr-defined]
            text = next((s.value for s in sides if isinstance(s, ast.Constant) and isinstance(s.value, str)), None)
            blocks.append((node, text))
    return blocks


def defined_under_guard(path: Path, name: str) -> int | None:
    """The line where ``name`` is defined (def, class or assignment) inside the ``__main__`` guard, or None
    when it is also defined at the top level (then the guard is not the problem)."""
    parsed = _tree(path)
    if parsed is None:
        return None
    tree = parsed[0]

    def defines(node: ast.stmt) -> bool:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            return node.name == name
        if isinstance(node, ast.Assign):
            return any(isinstance(t, ast.Name) and t.id == name for t in node.targets)
        return False

    if any(defines(node) for node in tree.body):
        return None
    for block, _ in guard_blocks(path):
        for node in ast.walk(block):
            if isinstance(node, ast.stmt) and defines(node):
                return node.lineno
    return None


_NOT_IN_CHILD = re.compile(r"Can't get attribute '(?P<name>[\w.]+)' on <module '__(?:mp_)?main__'")


def missing_in_children(text: str) -> str | None:
    """The name a spawned child could not find in the student's module (from its traceback), or None."""
    match = _NOT_IN_CHILD.search(text)
    return match.group("name") if match else None


def with_block_around(path: Path, line: int, callee_suffix: str) -> tuple[int, int] | None:
    """(first, last line) of a ``with X...(...)`` block whose callee ends with ``callee_suffix`` (e.g. "Manager")
    that ends before ``line`` in the same function; None when ``line`` is inside one or there is none."""
    parsed = _tree(path)
    if parsed is None:
        return None
    for function in ast.walk(parsed[0]):
        if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        if not (function.lineno <= line <= (function.end_lineno or function.lineno)):
            continue
        for node in ast.walk(function):
            if not isinstance(node, ast.With):
                continue
            for item in node.items:
                call = item.context_expr
                if isinstance(call, ast.Call):
                    func = call.func
                    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                    if name.endswith(callee_suffix):
                        end = node.end_lineno or node.lineno
                        if end < line:
                            return node.lineno, end
    return None


def lock_held_at(path: Path, line: int) -> int | None:
    """The first line of a ``with`` block around ``line`` (its body, not its own line) whose expression names a lock
    (``with lock:``, ``with counter.get_lock():``); None when there is none or the file does not parse."""
    parsed = _tree(path)
    if parsed is None:
        return None
    found = None
    for node in ast.walk(parsed[0]):
        if not isinstance(node, ast.With) or not node.body:
            continue
        if not (node.body[0].lineno <= line <= (node.end_lineno or node.lineno)):
            continue
        if any("lock" in ast.unparse(item.context_expr).lower() for item in node.items):
            found = max(found or 0, node.lineno)  # the innermost such block
    return found
