"""Student-facing wording for calls that did not return (trusted side).

Each message says what went wrong, shows the evidence (the student's
file:line, the exception, the time limit, what the code printed) and how to
fix it, in plain words. No grader internals.

It runs past 300 lines on purpose: the words for every way a call can fail to return live in
one place, so they stay consistent with each other.
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from mpgrade_sandboxed.locate import find_todo, is_student_file
from mpgrade_sandboxed.plaindata import TaskRef
from mpgrade_sandboxed.poolwatch import DEADLOCK_TYPE as POOL_DEADLOCK, ERROR_TYPE as POOL_LOOP

from mpgrade.verdicts import hangs
from mpgrade.sandbox.call import CallResult
from mpgrade.verdicts.source import defined_under_guard, missing_in_children, with_block_around

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


PICKLE_WORDS = ("pickle", "local object", "Can't get attribute")


def output_tail(result: CallResult) -> str:
    """The last lines the student's code printed to stderr (or stdout), indented."""
    for captured in (result.stderr, result.stdout):
        lines = _without_tracker_noise(captured.text)
        if lines:
            lines = lines[-OUTPUT_LINES:]
            note = " (truncated)" if captured.truncated else ""
            return f"\nYour code printed{note}:\n" + "\n".join("    " + line[:200] for line in lines)
    return ""


_TARGET_CALLED = re.compile(r"target\s*=\s*[\w.]+\s*\(")
_PROCESS_INIT_SKIPPED = re.compile(
    r"has no attribute '_(closed|popen|config|identity|parent_pid|parent_name|target|args|kwargs|name|start_method)'")
_GONE = ("ConnectionRefusedError", "FileNotFoundError", "BrokenPipeError", "EOFError", "ConnectionResetError")


def specific_cause(error: dict, student_file: Path | None = None, api_calls: dict | None = None) -> str:
    """What the exception and the student's line show about its cause, in one or two sentences; "" if nothing.

    Each rule rests on the exception's type and message and on the student's own line (or file, parsed).
    """
    where = error.get("where") or {}
    source = str(where.get("source") or "")
    kind, message = str(error.get("type")), str(error.get("message"))
    api_calls = api_calls or {}
    if _TARGET_CALLED.search(source):
        return ("`target=func(...)` calls the function right there, in this process, and hands Process what it "
                "returned. Pass the function itself and its arguments separately: "
                "Process(target=func, args=args).")
    if kind == "AttributeError" and _PROCESS_INIT_SKIPPED.search(message):
        return ("The Process part of this object was never set up: a Process subclass's __init__ must call "
                "super().__init__() first, before it sets its own attributes.")
    if kind == "AssertionError" and "can only join a started process" in message:
        return ("join() was called on a process that was never started: Process.start() never ran for it. If your "
                "class defines start(), rename it to run(): the inherited start() starts the new process, which "
                "then calls run().")
    if "as_completed" in source and re.search(r"has no attribute '_(condition|state|waiters)'", message):
        got = re.match(r"'(\w+)' object", message)
        return (f"as_completed() takes futures, and it was given {got.group(1) + ' values' if got else 'something else'}. "
                "If you keep a dict between futures and items, make the futures its keys: "
                "{executor.submit(func, item): item for item in items}, then iterate as_completed(that dict).")
    if ".result(" in source and kind not in ("TimeoutError", "CancelledError", "BrokenProcessPool", "NameError",
                                             "UnboundLocalError", "AttributeError", "KeyError"):
        return ("future.result() raises again the exception the call raised in its worker. To get the exception "
                "as a value, call future.exception() first: it returns the exception, or None, without raising.")
    if "exported pointers exist" in message:
        return ("A numpy array (or memoryview) still uses the block's memory, so the block cannot be closed. "
                "Copy the result out, then `del` every view of the block before calling close().")
    if "buffer is too small" in message:
        return ("The shared memory block is smaller than the array viewed on it: its size is in bytes, so "
                "create it with size=array.nbytes (not the number of elements).")
    if kind == "PermissionError":
        return ("The grader's sandbox (or the system) refused this. While graded, your code may read only Python "
                "and your own files, write only in its current folder (a relative path, or the tempfile module) "
                "and in shared memory, and may not open network connections or signal processes it did not "
                "start. The exercise needs none of that: remove the access.")
    if kind == "NameError" and student_file is not None:
        match = re.search(r"name '(\w+)' is not defined", message)
        line = defined_under_guard(student_file, match.group(1)) if match else None
        if line:
            return (f"`{match.group(1)}` is defined only inside `if __name__ == \"__main__\":` (line {line}), which "
                    "runs only when the file is run as a script; a module that is imported (by the grader, or "
                    "by every child process under spawn) never defines it. Define it at the top level.")
    if kind in _GONE and int((api_calls.get("BaseManager.start") or {}).get("from_student", 0)) \
            and student_file is not None and where.get("line"):
        block = with_block_around(student_file, int(where["line"]), "Manager")
        if block:
            return (f"Line {where['line']} uses a Manager's shared object after the `with` block of lines "
                    f"{block[0]}-{block[1]} ended, and ending it shut the Manager's server process down. Read "
                    "what you need (e.g. dict(counts)) inside the with-block.")
    return ""


def describe_raised(action: str, error: dict, student_file: Path | None = None, api_calls: dict | None = None) -> str:
    """What a student's call raised, for a student: the exception at their file:line, the TODO there, the fix."""
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
    cause = specific_cause(error, student_file, api_calls)
    if cause:
        text += "\n" + cause
    elif any(word in str(error.get("message")) for word in PICKLE_WORDS):
        text += ("\nA function given to a Pool, an executor or a Process under spawn is sent to the worker "
                 "by name, so it must be defined at the top level of your module: no lambda, no function "
                 "defined inside another function.")
    else:
        text += "\nRead the error and the line above; fix the cause, then run the check again."
    return text + todo_hint(where)


def _pool_loop(result: CallResult, action: str, module_file: str, student_file: Path | None) -> str:
    """A call the runner ended because its Pool kept replacing workers that died (``poolwatch``)."""
    error = result.error or {}
    where = error.get("where")
    importing = result.status == "import_error"
    what = f"Importing {module_file}" if importing else action
    text = (f"{what} was stopped: {error.get('message')}. A Pool worker only ends on its own when it fails, and "
            "then the Pool never finishes: the task that worker held is lost, or every new worker fails too.")
    missing = not_found_in_children(result, student_file)
    if missing:  # the workers could not find the function they were sent: why, and the fix
        return f"{text} {missing}"
    if where:
        text += f"\n  {'the statement that started it' if importing else 'waiting'} at {where_text(where)}"
    crash = worker_error(result, student_file) if student_file is not None else ""
    if crash:
        text += "\n" + crash
    if crash and "bootstrapping phase" in result.stderr.text:
        text += ("\nEach worker imports your file again, and the file's top level starts processes, so every "
                 "worker tries to start processes before it has finished starting itself. Keep only definitions "
                 "at the top level; start work in main(), called under `if __name__ == \"__main__\":`.")
    elif importing:
        text += ("\nThe top level of your module starts the Pool, and every worker imports your module again, so "
                 "each worker tries to start one too and dies. Start work only in main(), called under "
                 "`if __name__ == \"__main__\":`.")
    elif crash:
        text += "\nEach worker died with that error before it could finish a task: fix that line."
    elif "killed by signal" in str(error.get("message")):
        return text + ("\nA process is killed by a signal when it hits a resource limit (the CPU time each process "
                       "may use, its memory) or is killed by another process: a worker that computes far longer "
                       "than the task needs, or forever, is the usual cause.") + output_tail(result)
    else:
        return text + ("\nA Pool's worker dies when it cannot start (your module's top level or the Pool's "
                       "initializer fails in it) or when a task ends its process (sys.exit, os._exit): the output "
                       "below may show which.") + output_tail(result)
    return text + todo_hint(where)


def _over_limit(result: CallResult, action: str, module_file: str) -> str:
    """A call stopped for having too many processes, using too much memory or writing too much."""
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
    if result.limit == "written":
        return (f"While {during}, your code wrote more than {limits.get('max_written_mb', '?')} MB in all "
                f"({figures.get('peak_written_mb', '?')} MB seen in its folder and /dev/shm), so it was stopped. "
                "Look for a file or a shared memory block written in a loop that never ends, or data written again "
                "and again: an exercise needs a few MB at most.")
    return (f"While {during}, your processes together used more than {limits.get('max_memory_mb', '?')} MB of "
            f"memory ({figures.get('peak_memory_mb', '?')} MB seen), so the call was stopped. "
            "Look for a list or buffer that keeps growing, or data copied into every worker: "
            "give each worker only its share, or use shared memory.")


def explain(result: CallResult, action: str, module_file: str, timeout_s: float,
            student_file: Path | None = None) -> str:
    """Feedback for a ``result`` whose status is not "returned"; ``action`` names the call."""
    status = result.status
    if status in ("import_error", "raised") and (result.error or {}).get("type") == POOL_LOOP:
        return _pool_loop(result, action, module_file, student_file)
    if status == "import_error" and (result.error or {}).get("type") == POOL_DEADLOCK:
        where = (result.error or {}).get("where")
        return (f"Importing {module_file} never finished, so it was stopped: {(result.error or {}).get('message')}."
                + (f"\n  at {where_text(where)}" if where else "")
                + "\nCode at the top level of a module runs on import. Start the Pool only in main(), called under "
                  "`if __name__ == \"__main__\":`." + todo_hint(where))
    if status == "import_error":
        error = result.error or {}
        where = error.get("where")
        text = f"{module_file} could not be imported: {error.get('type')}: {error.get('message')}"
        if where:
            text += f"\n  at {where_text(where)}"
        if any(word in str(error.get("message")) for word in PICKLE_WORDS):
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
        return describe_raised(action, result.error or {}, student_file, result.api_calls) + output_tail(result)
    if status == "timeout":
        missing = not_found_in_children(result, student_file)
        if missing and result.phase not in ("starting", "importing"):
            return f"{action} did not finish within {timeout_s:g} s and was stopped. {missing}"
        if result.phase in ("starting", "importing"):
            return (f"Importing {module_file} did not finish within {timeout_s:g} s, so it was stopped. "
                    "Code at the top level of a module runs on import (and again in every child "
                    "process under spawn). Move it into `main()` under `if __name__ == \"__main__\":`."
                    + output_tail(result))
        described = hangs.explain(result, action, timeout_s, student_file)
        if described:
            return described + output_tail(result)
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


def not_found_in_children(result: CallResult, student_file: Path | None) -> str:
    """When a child process could not find a function in the student's module: why, and the fix; else ""."""
    name = missing_in_children(result.stderr.text)
    if not name:
        return ""
    line = defined_under_guard(student_file, name) if student_file is not None else None
    where = f" (line {line})" if line else ""
    if line:
        why = (f"`{name}` is defined only inside `if __name__ == \"__main__\":`{where}. A spawned worker imports your "
               "file as __mp_main__, where that block does not run, so the worker cannot find it")
    else:
        why = (f"`{name}` is not defined at the top level of your module, where a spawned worker looks for it "
               "(a lambda, a function defined inside another function, or one defined under the guard)")
    return (f"Its worker processes failed with \"Can't get attribute '{name}'\": {why}; a Pool then keeps "
            f"starting new workers and waits forever. Define `{name}` at the top level of the module.")


def _traceback_blocks(text: str) -> list[list[str]]:
    marker = "Traceback (most recent call last)"
    starts = [m.start() for m in re.finditer(re.escape(marker), text)]
    return [text[a:b].splitlines() for a, b in zip(starts, starts[1:] + [len(text)])]


def _source_line(path: Path, number: int) -> str:
    """Line ``number`` of the student's file as it is on disk (a traceback's copy may be interleaved with another
    process's output)."""
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return ""
    return lines[number - 1].strip()[:200] if 0 < number <= len(lines) else ""


def worker_error(result: CallResult, student_file: Path) -> str:
    """What a worker process of the call reported on stderr, pointed at the student's line.

    Exceptions in child processes never reach the caller as exceptions: the
    child prints a traceback and exits with code 1. This finds the first such
    traceback that passes through the student's file (else the last one).
    Empty if there is none.
    """
    blocks = _traceback_blocks(result.stderr.text)
    if not blocks:
        return ""
    root = os.path.realpath(student_file.parent)
    chosen = None
    for lines in blocks:
        where, exception = None, None
        for index, line in enumerate(lines):
            match = _TRACE_LINE.search(line)
            if match and Path(match.group("file")).name == student_file.name \
                    and is_student_file(match.group("file"), root):
                where = (int(match.group("line")), _source_line(student_file, int(match.group("line")))
                         or (lines[index + 1].strip() if index + 1 < len(lines) else ""))
        for index in reversed(range(len(lines))):
            line = lines[index]
            if line and not line.startswith(" ") and _EXC_LINE.match(line) \
                    and not line.startswith(("Process ", "Traceback")):
                exception = line.strip()
                following = [text.strip() for text in lines[index + 1:] if text.strip()]
                if exception.endswith(":") and following:  # a message that starts on the next line
                    exception += " " + following[0]
                break
        if exception is None:
            continue
        if where is not None:
            chosen = (where, exception)
            break
        chosen = chosen or (None, exception)
    if chosen is None:
        return ""
    where, exception = chosen
    text = f"A worker process raised {exception}"
    if where is not None:
        text += f"\n  at {student_file.name}:{where[0]}: {where[1]}"
        todo = find_todo(str(student_file), where[0]) if exception.startswith("NotImplementedError") else None
        if todo:
            text += f"\nThat part is not written yet. Your TODO there: {todo}"
    return text
