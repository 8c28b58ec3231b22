"""Submissions stored as parts: only what a student wrote, composed with the exercise's solution when graded.

The kit's own fixtures (the mistakes catalogue, the correct variants, the race
and speedup variants) are each one student's file. Stored whole, each would
repeat the exercise's docstrings, given helpers and ``main()``, and a change
to any of them would be made a hundred times. So each is stored as a *part*,
``<exercise>.part.py``: the top-level definitions that student wrote
differently from the solution, and nothing else. :func:`compose` makes the
whole file from the solution (every TODO done the reference way, see
:func:`mpgrade.course.stubs.make_solved`) and the part, the way ``mpgrade
stubs`` makes stubs from it; :func:`extract` is the inverse, for storing a new
entry. To read an entry whole, or to make a part of a file::

    python -m mpgrade.course.parts show tests/submissions/mistakes/ex01_never_joined
    python -m mpgrade.course.parts extract path/to/ex01_processes.py

Text only: nothing here imports or runs a student's code.
"""
from __future__ import annotations

import argparse
import ast
import hashlib
import os
import re
import sys
import tempfile
from pathlib import Path

from mpgrade.course.stubs import make_solved
from mpgrade.settings import KIT_ROOT

PART_SUFFIX = ".part.py"
SOLUTIONS = KIT_ROOT / "solutions"
WITHOUT = re.compile(r"^# without: (?P<names>.+)$")
"""A part's line that drops top-level definitions of the solution (``# without: main, guard``)."""
AFTER = re.compile(r"^# after: (?P<name>\w+)$")
"""A part's line right above something new: put it after the solution's definition of that name (or its
``imports``)."""


def _is_text(node: ast.stmt) -> bool:
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)


def _key(node: ast.stmt, first: bool) -> str | None:
    """What a top-level statement of a part replaces in the solution: the definition or the single name assigned
    of the same name, the ``__main__`` guard (``guard``) or the module docstring; None for something new."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return node.name
    if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
        return node.targets[0].id
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return node.target.id
    if isinstance(node, ast.If) and "__name__" in ast.unparse(node.test) and "'__main__'" in ast.unparse(node.test):
        return "guard"
    if first and _is_text(node):
        return "docstring"
    return None


def _is_import(node: ast.stmt) -> bool:
    return isinstance(node, (ast.Import, ast.ImportFrom))


def _directive(line: str) -> bool:
    return bool(WITHOUT.match(line.strip()) or AFTER.match(line.strip()))


def _items(source: str, with_comments: bool) -> list[tuple[ast.stmt, str | None, int, int]]:
    """Each top-level statement with its key and 0-based [start, end) lines: decorators included, an
    assignment's docstring (the string right after it) included, and for a part the comment lines right above."""
    lines = source.splitlines(keepends=True)
    items: list[tuple[ast.stmt, str | None, int, int]] = []
    body = ast.parse(source).body
    for index, node in enumerate(body):
        if index and _is_text(node) and isinstance(body[index - 1], (ast.Assign, ast.AnnAssign)) and items:
            before, key, start, _ = items[-1]
            items[-1] = (before, key, start, node.end_lineno or node.lineno)
            continue
        start = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))]) - 1
        while with_comments and start > 0 and lines[start - 1].lstrip().startswith("#") \
                and not _directive(lines[start - 1]):
            start -= 1
        items.append((node, _key(node, index == 0), start, node.end_lineno or node.lineno))
    return items


def _import_span(items: list[tuple[ast.stmt, str | None, int, int]]) -> tuple[int, int] | None:
    spans = [(start, end) for node, _, start, end in items if _is_import(node)]
    return (spans[0][0], spans[-1][1]) if spans else None


def compose(solution_source: str, part: str) -> str:
    """A whole student file from the exercise's solution and a ``part``: only what that student wrote.

    Start from :func:`make_solved` (every TODO done the reference way). Each top-level definition,
    single-name assignment, ``__main__`` guard or docstring of the part takes the place of the solution's of
    the same name. Anything else (a helper, a new global) goes in after the part's statement before it, or
    after the solution's ``name`` when a ``# after: name`` line is right above it. A part's imports, if it
    has any, are the file's: they take the place of the solution's. ``# without: name, ...`` drops the
    solution's definitions of those names (or ``guard``).
    """
    base = make_solved(solution_source)
    lines, part_lines = base.splitlines(keepends=True), part.splitlines(keepends=True)
    base_items, part_items = _items(base, with_comments=False), _items(part, with_comments=True)
    where = {key: (start, end) for _, key, start, end in base_items if key}
    base_imports, part_imports = _import_span(base_items), _import_span(part_items)
    if base_imports:
        where["imports"] = base_imports
    replace: dict[int, tuple[int, list[str]]] = {}  # the solution's [start, end) -> the lines in its place
    insert: dict[int, list[str]] = {}  # a solution line -> lines to put before it
    if part_imports:
        imports = part_lines[part_imports[0]:part_imports[1]]
        if base_imports:
            replace[base_imports[0]] = (base_imports[1], imports)
        else:
            insert.setdefault(where["docstring"][1] if "docstring" in where else 0, []).extend(imports)
    dropped = [name.strip() for line in part_lines if (m := WITHOUT.match(line.strip()))
               for name in m.group("names").split(",")]
    for name in dropped:
        if name not in where:
            raise ValueError(f"# without: {name}: the solution has no top-level {name}")
        replace[where[name][0]] = (where[name][1], [])
    pending: list[list[str]] = []  # new statements before the part's first one with a place in the solution
    cursor: int | None = None  # where the next new statement goes
    for node, key, start, end in part_items:
        if _is_import(node) or (part_imports and part_imports[0] <= start < part_imports[1]):
            continue
        text = part_lines[start:end]
        after = AFTER.match(part_lines[start - 1].strip()) if start else None
        if after:
            if after.group("name") not in where:
                raise ValueError(f"# after: {after.group('name')}: the solution has no top-level {after.group('name')}")
            cursor = where[after.group("name")][1]
        if key in where:
            base_start, base_end = where[key]
            replace[base_start] = (base_end, text)
            for earlier in pending:
                insert.setdefault(base_start, []).extend(earlier + ["\n", "\n"])
            pending, cursor = [], base_end
        elif cursor is None:
            pending.append(text)
        else:
            insert.setdefault(cursor, []).extend(["\n", "\n"] + text)
    at = where["guard"][0] if "guard" in where and "guard" not in dropped else len(lines)
    for text in pending:  # nothing in the part had a place: before the guard, or at the end
        insert.setdefault(at, []).extend(text + ["\n", "\n"] if at < len(lines) else ["\n", "\n"] + text)
    out: list[str] = []
    number = 0
    while number <= len(lines):
        out.extend(insert.get(number, []))
        if number == len(lines):
            break
        if number in replace:
            number, text = replace[number]
            out.extend(text)
        else:
            out.append(lines[number])
            number += 1
    return "".join(out).rstrip("\n") + "\n"


def extract(solution_source: str, whole: str) -> str:
    """The part of ``whole`` (a student's file) that :func:`compose` needs to make it again from the solution."""
    base = make_solved(solution_source)
    base_lines, lines = base.splitlines(keepends=True), whole.splitlines(keepends=True)
    base_items, items = _items(base, with_comments=True), _items(whole, with_comments=True)
    named = {key: "".join(base_lines[start:end]) for _, key, start, end in base_items if key}
    unnamed = {"".join(base_lines[start:end]) for _, key, start, end in base_items if key is None}
    base_imports, imports = _import_span(base_items), _import_span(items)
    out: list[str] = []
    text_of = (lambda span, source: "".join(source[span[0]:span[1]]) if span else "")
    if text_of(imports, lines) != text_of(base_imports, base_lines):
        out.append(text_of(imports, lines).rstrip("\n") + "\n")
    seen: set[str] = set()
    previous: str | None = None  # the solution's definition the last statement left as it was
    for node, key, start, end in items:
        text = "".join(lines[start:end])
        if key:
            seen.add(key)
        if _is_import(node) or (imports and imports[0] <= start < imports[1]):
            previous = "imports"
        elif (key is not None and named.get(key) == text) or (key is None and text in unnamed):
            previous = key
        else:
            if (key is None or key not in named) and previous:
                text = f"# after: {previous}\n" + text
            out.append(text)
            previous = None
    without = [key for key in named if key not in seen]
    part = ("# without: " + ", ".join(without) + "\n" if without else "") + "\n\n".join(out)
    return part.rstrip("\n") + "\n" if part else ""


def exercise_of(part: Path) -> str:
    """The exercise a part file belongs to, from its name (``ex01_processes.part.py``)."""
    if not part.name.endswith(PART_SUFFIX):
        raise ValueError(f"{part}: a part's name is <exercise>{PART_SUFFIX}")
    return part.name[: -len(PART_SUFFIX)]


def whole_file(part: Path, solutions: Path = SOLUTIONS) -> str:
    """The student's whole file for a part file."""
    solution = solutions / f"{exercise_of(part)}.py"
    return compose(solution.read_text(encoding="utf-8"), part.read_text(encoding="utf-8"))


def materialize(folder: Path, into: Path | None = None, solutions: Path = SOLUTIONS) -> Path:
    """A folder that holds ``folder``'s submission whole, as a student would hand it in.

    A folder without a part is returned as it is. Otherwise the composed file goes into a folder of the same
    name under ``into`` (by default the temporary directory), one per content, so that entries of the same
    name from different sets and concurrent graders never collide; written atomically.
    """
    parts = sorted(folder.glob("*" + PART_SUFFIX))
    if not parts:
        return folder
    texts = {f"{exercise_of(part)}.py": whole_file(part, solutions) for part in parts}
    digest = hashlib.sha256(repr(sorted(texts.items())).encode()).hexdigest()[:16]
    target = (into or Path(tempfile.gettempdir()) / "mpgrade-composed") / digest / folder.name
    target.mkdir(parents=True, exist_ok=True)
    for name, text in texts.items():
        path = target / name
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            fd, tmp = tempfile.mkstemp(dir=target, prefix=f".{name}.")
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
            os.replace(tmp, path)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mpgrade.course.parts", description=__doc__.split("\n")[0])
    verbs = parser.add_subparsers(dest="verb", required=True)
    show = verbs.add_parser("show", help="print the whole file of a stored entry (a folder or a .part.py file)")
    show.add_argument("entry", type=Path)
    make = verbs.add_parser("extract", help="print the part of a whole student file (named <exercise>.py)")
    make.add_argument("file", type=Path)
    args = parser.parse_args(argv)
    if args.verb == "show":
        parts = [args.entry] if args.entry.is_file() else sorted(args.entry.glob("*" + PART_SUFFIX))
        if not parts:
            print(f"{args.entry}: no {PART_SUFFIX} file", file=sys.stderr)
            return 2
        for part in parts:
            sys.stdout.write(whole_file(part))
        return 0
    solution = SOLUTIONS / args.file.name
    if not solution.is_file():
        print(f"{args.file}: no solution of that name in {SOLUTIONS}", file=sys.stderr)
        return 2
    sys.stdout.write(extract(solution.read_text(encoding="utf-8"), args.file.read_text(encoding="utf-8")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
