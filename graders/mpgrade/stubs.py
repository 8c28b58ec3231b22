"""Generate student stubs from reference solutions (trusted side; text only).

A solution is written once, with the parts students write between markers:

    # BEGIN SOLUTION: hint for the student
    ...reference code...
    # END SOLUTION

In the stub each block becomes ``# TODO: hint`` and ``raise
NotImplementedError``, at the marker's indentation; every other line
(helpers, docstrings, type hints, ``main()``) is kept as it is. Like
nbgrader's and otter-grader's solution markers.

A block may end with a ``# STUB:`` section of commented-out lines; the stub
then gets those lines (uncommented) after the TODO instead of the ``raise``,
for exercises whose starting point is working-but-wrong code (a race, a
missing ``__main__`` guard):

    # BEGIN SOLUTION: hold the lock while you update
    with lock:
        counter.value += 1
    # STUB:
    # counter.value += 1
    # END SOLUTION
"""
from __future__ import annotations

import re
from pathlib import Path

BEGIN = re.compile(r"^(?P<indent>[ \t]*)# BEGIN SOLUTION(?::\s*(?P<hint>.*))?$")
END = re.compile(r"^[ \t]*# END SOLUTION\s*$")
STUB = re.compile(r"^[ \t]*# STUB:\s*$")
DEFAULT_HINT = "write this part"


class MarkerError(ValueError):
    """Solution markers that do not pair up."""


def make_stub(source: str, filename: str = "<solution>") -> str:
    """The stub text for one solution's ``source``."""
    out: list[str] = []
    inside_since: int | None = None
    indent = ""
    stub_lines: list[str] | None = None
    for number, line in enumerate(source.splitlines(keepends=True), start=1):
        text = line.rstrip("\r\n")
        begin = BEGIN.match(text)
        if begin:
            if inside_since is not None:
                raise MarkerError(f"{filename}:{number}: BEGIN SOLUTION inside the block opened at line {inside_since}")
            inside_since, stub_lines = number, None
            indent = begin.group("indent")
            hint = (begin.group("hint") or "").strip() or DEFAULT_HINT
            out.append(f"{indent}# TODO: {hint}\n")
        elif END.match(text):
            if inside_since is None:
                raise MarkerError(f"{filename}:{number}: END SOLUTION without BEGIN SOLUTION")
            if stub_lines is None:
                out.append(f"{indent}raise NotImplementedError\n")
            else:
                out.extend(stub_lines)
            inside_since = None
        elif inside_since is not None and STUB.match(text):
            stub_lines = []
        elif inside_since is not None and stub_lines is not None:
            body = text[len(indent):] if text.startswith(indent) else text.lstrip()
            if body.strip() and not body.startswith("#"):
                raise MarkerError(f"{filename}:{number}: lines after STUB: must be commented out")
            body = body[2:] if body.startswith("# ") else body[1:]
            stub_lines.append(f"{indent}{body}\n" if body.strip() else "\n")
        elif inside_since is None:
            out.append(line)
    if inside_since is not None:
        raise MarkerError(f"{filename}:{inside_since}: BEGIN SOLUTION is never closed")
    return "".join(out)


def solution_lines(source: str) -> list[str]:
    """The non-blank lines that only the solution has (for leak checks): lines inside
    markers, minus those the block's STUB section gives the student anyway."""
    lines: list[str] = []
    block: list[str] = []
    given: set[str] = set()
    state = "outside"
    for line in source.splitlines():
        if BEGIN.match(line):
            state, block, given = "solution", [], set()
        elif END.match(line):
            lines.extend(text for text in block if text not in given)
            state = "outside"
        elif STUB.match(line):
            state = "stub"
        elif state == "solution" and line.strip():
            block.append(line.strip())
        elif state == "stub" and line.strip():
            given.add(line.strip().lstrip("#").strip())
    return lines


def generate(solutions: Path, exercises: Path, check_only: bool = False) -> list[str]:
    """Write (or with ``check_only`` compare) a stub for every ``ex*.py`` in ``solutions``.

    Returns the names of stubs that were out of date.
    """
    stale = []
    exercises.mkdir(parents=True, exist_ok=True)
    for solution in sorted(solutions.glob("ex*.py")):
        stub = make_stub(solution.read_text(encoding="utf-8"), str(solution))
        target = exercises / solution.name
        current = target.read_text(encoding="utf-8") if target.exists() else None
        if current != stub:
            stale.append(solution.name)
            if not check_only:
                target.write_text(stub, encoding="utf-8")
    return stale
