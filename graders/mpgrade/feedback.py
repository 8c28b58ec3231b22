"""Student-facing wording for calls that did not return (trusted side).

Each message says what went wrong, shows the evidence (the student's
file:line, the exception, the time limit, what the code printed) and how to
fix it, in plain words. No grader internals.
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from mpgrade_sandboxed.locate import find_todo, is_student_file
from mpgrade_sandboxed.plaindata import TaskRef

from .sandbox.call import CallResult

ARG_LIMIT = 80
OUTPUT_LINES = 12


def short(value: Any, limit: int = ARG_LIMIT) -> str:
    """A short repr for feedback; grader tasks show by name."""
    if isinstance(value, TaskRef):
        return value.name
    if isinstance(value, list) and any(isinstance(v, TaskRef) for v in value):
        text = "[" + ", ".join(short(v, limit) for v in value) + "]"
    else:
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def call_text(name: str, args: tuple, kwargs: dict) -> str:
    """``name(arg, ..., key=value)`` as a student would write it."""
    parts = [short(a) for a in args] + [f"{k}={short(v)}" for k, v in kwargs.items()]
    return f"{name}({', '.join(parts)})"


def where_text(where: dict | None) -> str:
    """``file:line: source`` for the student's frame, if known."""
    if not where:
        return ""
    text = f"{where.get('file')}:{where.get('line')}"
    if where.get("source"):
        text += f": {where['source']}"
    if where.get("called_from"):
        text += f"\n  (in a worker process, called through {where['called_from']})"
    return text


def _without_tracker_noise(text: str) -> list[str]:
    """Output lines minus multiprocessing's resource-tracker warnings (about the sandbox's exit, not the student)."""
    kept, skip_next = [], False
    for line in text.rstrip().splitlines():
        if "resource_tracker" in line and "UserWarning" in line:
            skip_next = True
            continue
        if skip_next and line.strip().startswith("warnings.warn("):
            skip_next = False
            continue
        skip_next = False
        kept.append(line)
    return kept


def todo_hint(where: dict | None) -> str:
    """``Your TODO there: ...`` when the student's line sits under a TODO comment."""
    if where and where.get("todo"):
        return f"\nYour TODO there: {where['todo']}"
    return ""


def located(path: Path, line: int, source: str | None = None) -> dict:
    """A ``where`` record (as the sandbox makes them) for a line of the student's file."""
    return {"file": path.name, "line": line, "source": source or "", "todo": find_todo(str(path), line)}


_PICKLE_WORDS = ("pickle", "local object", "Can't get attribute")


def output_tail(result: CallResult) -> str:
    """The last lines the student's code printed to stderr (or stdout), indented."""
    for captured in (result.stderr, result.stdout):
        lines = _without_tracker_noise(captured.text)
        if lines:
            lines = lines[-OUTPUT_LINES:]
            note = " (truncated)" if captured.truncated else ""
            return f"\nYour code printed{note}:\n" + "\n".join("    " + line[:200] for line in lines)
    return ""


def _raised(action: str, error: dict) -> str:
    where = error.get("where") or {}
    exc = f"{error.get('type')}: {error.get('message')}".rstrip(": ")
    if error.get("type") == "NotImplementedError":
        todo = where.get("todo")
        text = f"{action} is not written yet: it raised NotImplementedError"
        if where:
            text += f" at {where.get('file')}:{where.get('line')}"
        text += "."
        if todo:
            text += f"\nYour TODO there: {todo}"
        text += "\nReplace the `raise NotImplementedError` with your code."
        return text
    text = f"{action} raised {exc}"
    if where:
        text += f"\n  at {where_text(where)}"
    else:
        text += "\n  (the error came from library code, not from a line in your file)"
    if any(word in str(error.get("message")) for word in _PICKLE_WORDS):
        text += ("\nA function given to a Pool, an executor or a Process under spawn is sent to the worker "
                 "by name, so it must be defined at the top level of your module: no lambda, no function "
                 "defined inside another function.")
    else:
        text += "\nRead the error and the line above; fix the cause, then run the check again."
    return text + todo_hint(where)


def _over_limit(result: CallResult, action: str, module_file: str) -> str:
    """A call stopped for having too many processes or using too much memory."""
    figures = result.supervision
    limits = figures.get("limits") or {}
    if result.phase in ("starting", "importing"):
        during = f"importing {module_file}"
    else:
        during = f"running {action}" if action.startswith("`") else action[:1].lower() + action[1:]
    if result.limit == "processes":
        return (f"While {during}, your code had more than {limits.get('max_processes', '?')} processes alive at once "
                f"({figures.get('peak_processes', '?')} seen), so it was stopped with all of them. "
                "Start a fixed, small number of processes (one per CPU is plenty); a process that starts "
                "processes that start processes (or os.fork() in a loop) never stops growing. "
                "Under spawn a file that starts processes at the top level does it again in every child: "
                "put that code in main() under `if __name__ == \"__main__\":`.")
    return (f"While {during}, your processes together used more than {limits.get('max_memory_mb', '?')} MB of "
            f"memory ({figures.get('peak_memory_mb', '?')} MB seen), so the call was stopped. "
            "Look for a list or buffer that keeps growing, or data copied into every worker: "
            "give each worker only its share, or use shared memory.")


def explain(result: CallResult, action: str, module_file: str, timeout_s: float) -> str:
    """Feedback for a ``result`` whose status is not "returned"; ``action`` names the call."""
    status = result.status
    if status == "import_error":
        error = result.error or {}
        where = error.get("where")
        text = f"{module_file} could not be imported: {error.get('type')}: {error.get('message')}"
        if where:
            text += f"\n  at {where_text(where)}"
        if any(word in str(error.get("message")) for word in _PICKLE_WORDS):
            text += ("\nThe module starts work while it is imported, and that work hands a Pool a function it "
                     "cannot send to a worker (a lambda or nested function). Define the function at the top "
                     "level, and start the work in main() under `if __name__ == \"__main__\":`.")
        elif error.get("type") == "SyntaxError" and re.search(r"utf-8|encoding", str(error.get("message")), re.I):
            text += ("\nThe file is not saved as UTF-8, which Python expects: save it as UTF-8 in your editor "
                     "(or declare its encoding on the first line, e.g. `# -*- coding: latin-1 -*-`).")
        elif error.get("type") == "SyntaxError":
            text += "\nFix the syntax error at that line; `python -m py_compile " + module_file + "` shows it too."
        elif error.get("type") in ("SystemExit", "KeyboardInterrupt"):
            text += ("\nThe module exits while it is being imported. Put the code that runs the program "
                     "inside `main()` under `if __name__ == \"__main__\":`.")
        else:
            text += ("\nCode at the top level of a module runs on import. Fix the error, or move "
                     "that code into `main()` under `if __name__ == \"__main__\":`.")
        return text + todo_hint(where) + output_tail(result)
    if status == "missing":
        detail = result.detail
        name, kind = detail.get("name"), detail.get("kind", "function")
        if detail.get("found"):
            return (f"{module_file} defines `{name}`, but as a {detail['found']}, not a {kind}. "
                    f"Define `{name}` as a {kind} with the signature the exercise gives.")
        return (f"{module_file} has no {kind} `{name}`. Define it with the name and signature "
                f"the exercise gives (names are case-sensitive).")
    if status == "raised":
        return _raised(action, result.error or {}) + output_tail(result)
    if status == "timeout":
        if result.phase in ("starting", "importing"):
            return (f"Importing {module_file} did not finish within {timeout_s:g} s, so it was stopped. "
                    "Code at the top level of a module runs on import (and again in every child "
                    "process under spawn). Move it into `main()` under `if __name__ == \"__main__\":`."
                    + output_tail(result))
        return (f"{action} did not finish within {timeout_s:g} s and was stopped, with every process it started. "
                "Look for a process that is never started or never ends, a join() on a process "
                "that is blocked, or a queue or pipe that is read more times than it is written "
                "(or never drained before join)." + output_tail(result))
    if status == "limit":
        return _over_limit(result, action, module_file) + output_tail(result)
    if status == "tampered":
        return (f"While running {action}, your code wrote to the grader's private result channel "
                f"({result.detail.get('messages')} messages where the grader sends 3). Results can only come "
                "from the grader, so this check fails. Return your answer from the function instead.")
    if status == "crashed" and result.detail.get("supervisor_killed"):
        return (f"While running {action}, your code killed the process that supervises it (its parent). "
                "Every process it started was stopped, and the check fails. Do not signal processes "
                "you did not start (os.getppid() is the grader's).")
    if status == "crashed":
        code = result.exitcode
        how = f"was killed by signal {-code}" if isinstance(code, int) and code < 0 else f"exited with code {code}"
        return (f"While running {action}, the process running your code {how} before returning "
                "(os._exit(), a crash, or a resource limit). Do not end the calling process; "
                "let the function return its result." + output_tail(result))
    if status == "unencodable":
        return (f"{action} returned something that cannot be checked: {result.detail.get('reason')}. "
                "Return plain values (numbers, strings, lists, tuples, dicts) as the exercise asks.")
    return ("The grader could not run this check (sandbox problem: "
            f"{str(result.detail.get('reason', status))[:300]}). This is not a problem with your code; "
            "run the check again, and tell your instructor if it keeps happening.")


_TRACE_LINE = re.compile(r'File "(?P<file>[^"]+)", line (?P<line>\d+)')
_EXC_LINE = re.compile(r"^(?P<type>[A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Warning)?): ?(?P<message>.*)$")


def worker_error(result: CallResult, student_file: Path) -> str:
    """What a worker process of the call reported on stderr, pointed at the student's line.

    Exceptions in child processes never reach the caller as exceptions: the
    child prints a traceback and exits with code 1. This finds the last such
    traceback that passes through the student's file. Empty if there is none.
    """
    text = result.stderr.text
    if "Traceback (most recent call last)" not in text:
        return ""
    block = text[text.rindex("Traceback (most recent call last)"):]
    lines = block.splitlines()
    where, exception = None, None
    root = os.path.realpath(student_file.parent)
    for index, line in enumerate(lines):
        match = _TRACE_LINE.search(line)
        if match and Path(match.group("file")).name == student_file.name \
                and is_student_file(match.group("file"), root):
            source = lines[index + 1].strip() if index + 1 < len(lines) else ""
            where = (int(match.group("line")), source)
    for line in reversed(lines):
        if line and not line.startswith(" ") and _EXC_LINE.match(line):
            exception = line.strip()
            break
    if exception is None:
        return ""
    text = f"A worker process raised {exception}"
    if where is not None:
        text += f"\n  at {student_file.name}:{where[0]}: {where[1]}"
        todo = find_todo(str(student_file), where[0]) if exception.startswith("NotImplementedError") else None
        if todo:
            text += f"\nThat part is not written yet. Your TODO there: {todo}"
    return text
