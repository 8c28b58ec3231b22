"""Naming the real cause of a failed check from the evidence a call brought back (trusted side).

A student acts on the words of a failed check, not on its points, so a
check states the most specific cause its evidence shows, in this order:

1. a crash in a child process: its exception and the student's line
   (:func:`child_crash`, from the exit codes the spies saw at ``join()`` and
   the traceback the child printed);
2. which process did what (task records, ``process_starts``: the target and
   the types of the arguments each process was handed);
3. the first element that differs, with its index and both values
   (:func:`first_difference`, :func:`element_text`);
4. the API call that is missing or repeated, and where the student's file
   makes it (:func:`calls_in_source`, read with ``ast``: never imported here).

A generic hint is left for when none of these shows anything. Nothing here
runs student code; the student's file is only parsed.
"""
from __future__ import annotations

import ast
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

from .feedback import worker_error
from .sandbox.call import CallResult


def child_crash(result: CallResult, student_file: Path) -> str:
    """How a child process the student joined ended badly (exception, student's line, exit code); "" if none did.

    The exit codes come from the spies on ``Process.join`` in the caller; the
    exception and line from the traceback the child printed on its way out.
    """
    failures = [f for f in result.child_failures if f.get("exitcode")]
    if not failures:
        return ""
    code = failures[0]["exitcode"]
    others = f"; {len(failures)} processes ended this way" if len(failures) > 1 else ""
    if isinstance(code, int) and code < 0:
        terminated = int((result.api_calls.get("Process.terminate") or {}).get("from_student", 0))
        if code == -15 and terminated:
            return (f"A child process was stopped with terminate() (exit code -15{others}) instead of "
                    "ending on its own.")
        return f"A child process was killed by signal {-code} (exit code {code}{others})."
    raised = worker_error(result, student_file)
    if raised:
        return f"{raised}\n  (that process then exited with code {code}{others})"
    return f"A child process exited with code {code}{others} instead of 0."


def crash_exception(result: CallResult) -> str:
    """The last exception line a child printed (``TypeError: ...``), or ""."""
    text = result.stderr.text
    found = re.findall(r"^([A-Za-z_][\w.]*(?:Error|Exception)): ?(.*)$", text, re.MULTILINE)
    return f"{found[-1][0]}: {found[-1][1]}" if found else ""


def first_difference(got: Sequence, expected: Sequence,
                     same: Callable[[Any, Any], bool] | None = None) -> int | None:
    """The first index where ``got`` and ``expected`` differ (a length difference counts), or None."""
    equal = same or (lambda a, b: a == b)
    for index, (g, e) in enumerate(zip(got, expected)):
        if not equal(g, e):
            return index
    if len(got) != len(expected):
        return min(len(got), len(expected))
    return None


def differing(got: Sequence, expected: Sequence, same: Callable[[Any, Any], bool] | None = None) -> list[int]:
    """Every index (of the shorter) where ``got`` and ``expected`` differ."""
    equal = same or (lambda a, b: a == b)
    return [i for i, (g, e) in enumerate(zip(got, expected)) if not equal(g, e)]


def close(a: Any, b: Any, rel: float = 1e-9) -> bool:
    """Floats equal to ``rel`` (other values by ==)."""
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) \
            and not isinstance(a, bool) and not isinstance(b, bool):
        return math.isclose(a, b, rel_tol=rel, abs_tol=1e-12)
    return a == b


def element_text(got: Sequence, expected: Sequence, index: int, noun: str = "element") -> str:
    """``element 13 is 4.1e7; expected 6561.0`` (or what is missing there)."""
    if index >= len(got):
        return f"it has no {noun} {index} ({len(got)} {noun}s; expected {len(expected)})"
    if index >= len(expected):
        return f"{noun} {index} ({got[index]!r}) is one too many ({len(got)} {noun}s; expected {len(expected)})"
    return f"{noun} {index} is {got[index]!r}; expected {expected[index]!r}"


def index_list(indices: Sequence[int], limit: int = 6) -> str:
    """``3, 17 and 40`` (at most ``limit`` shown)."""
    shown = [str(i) for i in indices[:limit]]
    if len(indices) > limit:
        return ", ".join(shown) + f" and {len(indices) - limit} more"
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]


def started_with(result: CallResult, type_names: Sequence[str]) -> dict | None:
    """The first process the student started with an argument of one of ``type_names`` (e.g. "ndarray", "list")."""
    for start in result.process_starts:
        types = [str(t) for t in start.get("arg_types") or []]
        if any(t in type_names for t in types):
            return start
    return None


# ---- the student's file, parsed (never imported) -------------------------------------------------------------


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
