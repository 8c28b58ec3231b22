"""The ``if __name__ == "__main__":`` guard: static and dynamic checks (trusted side).

Under spawn and forkserver (macOS, Windows, Python 3.14 on Linux) every
child process imports the main module again, as ``__mp_main__``. Code at
its top level that starts work then runs in every child: a bare Process
makes the child fail with the bootstrapping RuntimeError, a Pool restarts
its workers forever, an executor breaks. Under fork nothing of this shows,
so a student on Linux never sees it.

- Static: the module's top level may hold only imports, definitions,
  constant assignments and the guard block; anything else is reported with
  its line. The file is parsed, never imported, here.
- Dynamic: the module is imported the way spawn's children do
  (``__mp_main__``) with process, pool and executor creation trapped, and run
  as a script under spawn and forkserver with a time limit.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

from mpgrade.verdicts.diagnose import child_crash
from mpgrade.verdicts.feedback import PICKLE_WORDS, located, not_found_in_children, output_tail, todo_hint, where_text
from mpgrade.verdicts.hangs import describe_hang, stopped
from mpgrade.outcomes import CheckFailed

SCRIPT_METHODS = ("spawn", "forkserver")
SAFE_CALLS = {
    "TypeVar", "NamedTuple", "namedtuple", "field", "dataclass", "frozenset", "tuple", "range", "dict",
    "list", "set", "Path", "getLogger", "compile", "Enum", "IntEnum", "object", "int", "float", "str",
    # A context object, the CPU count and plain arithmetic on constants: values, no process, no shared state
    # (`CTX = multiprocessing.get_context("spawn")` is the docs' own idiom: it must not cost a guard point).
    "get_context", "cpu_count", "process_cpu_count", "min", "max", "len", "sorted", "sum", "abs", "round",
    "bool", "bytes", "getenv", "partial", "Counter", "defaultdict", "OrderedDict", "deque", "dtype",
    "array", "arange", "linspace", "zeros", "ones", "full",
}
"""Calls that are allowed in a constant assignment: they build a value and start nothing (not a Lock, Queue
or Value: one made at import is a different object in every spawned child, never the parent's)."""
WORK_WORDS = ("Process", "Pool", "Executor", "start", "map", "submit", "run", "main")


@dataclass(frozen=True)
class Finding:
    """A top-level statement that runs on import."""

    line: int
    source: str
    starts_work: bool
    """True when it looks like it starts processes or the program (Process, Pool, main(), ...)."""
    compares_with: str | None = None
    """For ``if __name__ == "main":`` and the like: the string __name__ is compared with instead of "__main__"."""


def _is_guard(node: ast.stmt) -> bool:
    if not isinstance(node, ast.If):
        return False
    test = node.test
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)):
        return False
    sides = [test.left, *test.comparators]
    names = [s for s in sides if isinstance(s, ast.Name) and s.id == "__name__"]
    mains = [s for s in sides if isinstance(s, ast.Constant) and s.value == "__main__"]
    return bool(names and mains)


def _misspelt_guard(node: ast.stmt) -> str | None:
    """The string an ``if __name__ == "...":`` compares with, when it is not "__main__"."""
    if not isinstance(node, ast.If) or not isinstance(node.test, ast.Compare):
        return None
    sides = [node.test.left, *node.test.comparators]
    if not any(isinstance(s, ast.Name) and s.id == "__name__" for s in sides):
        return None
    text = next((s.value for s in sides if isinstance(s, ast.Constant) and isinstance(s.value, str)), None)
    return text if text != "__main__" else None


def _calls(node: ast.AST) -> list[str]:
    names = []
    for child in ast.walk(node):
        if isinstance(child, ast.Call):
            func = child.func
            names.append(func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "?"))
    return names


def _plain_classes(tree: ast.Module) -> set[str]:
    """The module's own top-level classes that are plain values to make (a sentinel class, a dataclass): no
    base class that starts or shares anything (Process, Thread, a Pool, a Lock...)."""
    found = set()
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            bases = [ast.unparse(base) for base in node.bases]
            if not any(word in base for base in bases for word in (*WORK_WORDS, "Thread", "Lock", "Queue")):
                found.add(node.name)
    return found


def _is_allowed(node: ast.stmt, own: frozenset[str] | set[str] = frozenset()) -> bool:
    if isinstance(node, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Pass)):
        return True
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
        return True  # a docstring or a bare constant
    if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
        value = node.value
        return value is None or all(name in SAFE_CALLS or name in own for name in _calls(value))
    if isinstance(node, ast.If) and not _is_guard(node):
        # `if TYPE_CHECKING:` / `if sys.version_info ...:` holding only allowed statements
        return all(_is_allowed(n, own) for n in node.body + node.orelse)
    if isinstance(node, ast.Try):
        return all(_is_allowed(n, own) for n in node.body + node.orelse + node.finalbody) and all(
            _is_allowed(n, own) for handler in node.handlers for n in handler.body)
    return _is_guard(node)


def static_findings(path: Path) -> list[Finding]:
    """Top-level statements of ``path`` that run on import; raises SyntaxError for a bad file."""
    source = path.read_text(encoding="utf-8", errors="replace")
    tree = ast.parse(source, filename=str(path))
    lines = source.splitlines()
    findings = []
    own = _plain_classes(tree)
    for node in tree.body:
        if _is_allowed(node, own):
            continue
        text = lines[node.lineno - 1].strip() if node.lineno - 1 < len(lines) else ""
        starts = any(any(word in name for word in WORK_WORDS) for name in _calls(node))
        findings.append(Finding(node.lineno, text[:200], starts, _misspelt_guard(node)))
    return findings


def has_guard(path: Path) -> bool:
    """Whether the module has an ``if __name__ == "__main__":`` block at its top level."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8", errors="replace"))
    except SyntaxError:
        return False
    return any(_is_guard(node) for node in tree.body)


def check_static(path: Path) -> None:
    """Fail unless the top level of ``path`` only defines things."""
    __tracebackhide__ = True
    try:
        findings = static_findings(path)
    except SyntaxError as error:
        raise CheckFailed(f"{path.name} has a syntax error at line {error.lineno}: {error.msg}.") from None
    if not findings:
        return
    first = findings[0]
    where = located(path, first.line, first.source)
    if first.compares_with is not None:
        raise CheckFailed(
            f"{where_text(where)}\nThis guard compares __name__ with {first.compares_with!r}, which __name__ never "
            "equals: run as a script it is \"__main__\", imported it is the module's name. So the block never "
            "runs. Write `if __name__ == \"__main__\":`." + todo_hint(where))
    more = f" (and {len(findings) - 1} more top-level statement(s))" if len(findings) > 1 else ""
    what = ("starts work" if first.starts_work else "runs code")
    raise CheckFailed(
        f"{where_text(where)}\nThis line {what} when the module is imported{more}. Under spawn and "
        "forkserver (macOS, Windows, Python 3.14) every child process imports your module again, so it "
        "would run in every child too. Keep only imports, functions, classes and constants at the top "
        "level; put the rest in main() and call main() only under `if __name__ == \"__main__\":`."
        + todo_hint(where))


def check_dynamic(student, timeout: float = 30.0, details: dict | None = None) -> None:
    """Fail unless the module imports cleanly as ``__mp_main__`` and runs as a script under spawn and forkserver."""
    __tracebackhide__ = True
    imported = student.run(student.exercise, kind="mp_main_import", timeout=timeout)
    if imported.status == "raised" and (imported.error or {}).get("type") == "StartedAtImport":
        where = (imported.error or {}).get("where")
        raise CheckFailed(
            f"Importing {student.module_file} the way a spawned child process does (as __mp_main__) "
            f"starts a new process or pool"
            + (f"\n  at {where_text(where)}" if where else "")
            + "\nIn a child this fails (spawn) or starts processes forever (a Pool). Start work only in main(), "
              "called under `if __name__ == \"__main__\":`." + todo_hint(where))
    if imported.status == "timeout":
        raise CheckFailed(f"Importing {student.module_file} as __mp_main__ (what a spawned child does) did not "
                          f"finish within {timeout * student.settings.timeout_factor:g} s. Code at the top level "
                          "runs on import; move it into main() under `if __name__ == \"__main__\":`.")
    if imported.status not in ("returned",):
        from mpgrade.verdicts.feedback import explain

        raise CheckFailed(explain(imported, f"Importing {student.module_file} as __mp_main__",
                                  student.module_file, timeout * student.settings.timeout_factor, student.path))
    outcomes = {}
    for method in SCRIPT_METHODS:
        outcomes[method] = _script_problem(student, method, timeout)
    failing = {m: p for m, (p, _) in outcomes.items() if p}
    if not failing:
        return
    method, problem = next(iter(failing.items()))
    others = [m for m in SCRIPT_METHODS if m not in failing]
    also = f" (it does run under {', '.join(others)})" if others else ""
    text = f"Running `python {student.module_file}` with the {method} start method{also}: {problem}"
    if all(outcomes[m][1] for m in failing):
        # One mistake, one deduction: the guard did its job (nothing runs on import, children find every
        # function); the script failed inside a function main() calls, whose own check costs the points.
        if details is not None:
            details["note"] = (f"{text}\nThat is not a guard problem: your module imports cleanly in a child and "
                               "the error is inside a function main() calls, which the exercise's own checks "
                               "grade. Fix it there; this check does not take a point for it too.")
        return
    raise CheckFailed(text)


_BOOTSTRAP = "An attempt has been made to start a new process before"


def _script_problem(student, method: str, timeout: float) -> tuple[str, bool]:
    """What went wrong running the module as a script under ``method`` ("" if nothing did), and whether it is a
    function's own bug rather than the guard's: an error raised inside one of the student's functions, a child
    that failed at the student's line, or a function that already hung in an earlier check."""
    result, limit, earlier = student.run_script(method, timeout)
    ended = stopped(result, "it", limit)
    if result.status == "timeout" and earlier is not None:  # not a guard problem: a function of it hangs
        before = "deadlocked" if earlier.deadlock else f"did not finish within {earlier.limit_s:g} s"
        return (f"{ended} too. In an earlier check {earlier.action} {before}: fix that hang first (the script "
                "calls it), then check the guard again." + output_tail(result)), True
    if result.status == "timeout":
        missing = not_found_in_children(result, student.path)
        if missing:
            return f"{ended}. {missing}", False
        described = describe_hang(result, student.path) if result.hang.get("deadlock") else ""
        if described:
            return f"{ended}. {described}" + output_tail(result), False
        return (f"it did not finish within {limit:g} s and was stopped. A Pool whose workers fail while "
                "importing your file restarts them forever; make sure nothing at the top level starts work, "
                "so that a child importing the file only gets definitions." + output_tail(result)), False
    if _BOOTSTRAP in result.stderr.text:
        return ("a child process failed with \"An attempt has been made to start a new process before the "
                "current process has finished its bootstrapping phase\": the child imported your file and "
                "the top level started a process again. Start processes only from main(), under "
                "`if __name__ == \"__main__\":`." + output_tail(result)), False
    if result.status != "returned":
        from mpgrade.verdicts.feedback import explain

        error = result.error or {}
        where = error.get("where") or {}
        # Not an untouched stub: a TODO that raises leaves nothing for the guard to have been checked with.
        own = (result.status == "raised" and where.get("function") not in (None, "<module>", "main")
               and error.get("type") != "NotImplementedError" and not where.get("todo")
               and not any(word in str(error.get("message")) for word in PICKLE_WORDS))
        return explain(result, "the script", student.module_file, limit, student.path), own
    failures = [f for f in result.child_failures if f.get("exitcode")]
    if failures:
        first = failures[0]
        missing = not_found_in_children(result, student.path)
        if missing:
            return f"a child process it started exited with code {first['exitcode']}. {missing}", False
        crash = child_crash(result, student.path)
        if crash and "\n  at " in crash and not any(word in result.stderr.text for word in PICKLE_WORDS):
            # The child ran the student's code and failed there: that line is the cause, not pickling.
            return (f"a child process it started failed:\n{crash}\nFix that line; the same error makes the "
                    "exercise's own checks fail."), "NotImplementedError" not in crash and "TODO" not in crash
        return (f"a child process it started exited with code {first['exitcode']}." + output_tail(result)
                + "\nUnder spawn a child gets its target function by importing your module; it must be "
                  "defined at the top level (no lambda, no function defined inside another)."), False
    code = (result.value or {}).get("exit_code", 0)
    if code:
        return f"it exited with code {code}." + output_tail(result), False
    return "", False


def check_guard(student, timeout: float = 30.0, details: dict | None = None) -> None:
    """The whole guard check: static first (cheap, names the line), then the dynamic runs. ``details`` (the
    check's ``check_details``) gets the note when the script failed for a function's own bug, not the guard."""
    __tracebackhide__ = True
    if not student.path.is_file():
        raise CheckFailed(f"{student.module_file} is missing from {student.settings.submission}.")
    check_static(student.path)
    check_dynamic(student, timeout, details)
