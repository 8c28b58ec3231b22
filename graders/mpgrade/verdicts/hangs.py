"""A hang in a student's words: which process waits where, on what, and what that usually means (trusted side).

The facts come from ``CallResult.hang`` (``sandbox/stacks.py``): for each
process still alive when the call was stopped, its role (the caller, a
process the student started and its target, a Pool worker, a Manager's
server), whether the kernel had it waiting with no timeout or running, and
its Python stack. This module turns them into lines such as

    - 3 processes (target `consume`) wait in `get()` on a Queue, at ex03_queue.py:29: `item = tasks.get()`

and, where the waits form one of the classic deadlocks, one sentence on the
cause and the fix. It never judges: the check that called decides the
points, and a hang costs the checks whose results it prevents.
"""
from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

from mpgrade.verdicts.source import lock_held_at

# (file name, function) of the innermost library frame the student's line called -> what it waits on.
_WAITS = {
    ("queues.py", "get"): ("get", "`get()` on a Queue"),
    ("queues.py", "put"): ("put", "`put()` on a full Queue"),
    ("queues.py", "join"): ("queue-join", "`join()` on a JoinableQueue (one `task_done()` short?)"),
    ("connection.py", "recv"): ("recv", "`recv()` on a Pipe"),
    ("connection.py", "recv_bytes"): ("recv", "`recv()` on a Pipe"),
    ("connection.py", "send"): ("send", "`send()` on a Pipe whose buffer is full (nobody reads the other end)"),
    ("connection.py", "send_bytes"): ("send", "`send()` on a Pipe whose buffer is full (nobody reads the other end)"),
    ("connection.py", "poll"): ("recv", "`poll()` on a Pipe"),
    ("process.py", "join"): ("join", "`join()` on a process"),
    ("synchronize.py", "__enter__"): ("lock", "acquiring a Lock (`with lock:`)"),
    ("synchronize.py", "acquire"): ("lock", "`acquire()` on a Lock"),
    ("synchronize.py", "wait"): ("event", "`wait()` on an Event, Condition or Barrier"),
    ("pool.py", "map"): ("pool", "the Pool's `map()` (its tasks never finish)"),
    ("pool.py", "starmap"): ("pool", "the Pool's `starmap()` (its tasks never finish)"),
    ("pool.py", "get"): ("pool", "`get()` on a Pool's result (its task never finishes)"),
    ("pool.py", "wait"): ("pool", "`wait()` on a Pool's result (its task never finishes)"),
    ("pool.py", "join"): ("pool-join", "`join()` on the Pool"),
    ("pool.py", "__exit__"): ("pool", "leaving the Pool's with-block"),
    ("managers.py", "_callmethod"): ("manager", "the call on a Manager's proxy (the Manager's server never answers)"),
    ("managers.py", "__enter__"): ("lock", "acquiring a Manager's Lock (`with lock:`)"),
    ("managers.py", "acquire"): ("lock", "`acquire()` on a Manager's Lock"),
    ("<string>", "get"): ("get", "`get()` on a Manager's queue"),
    ("<string>", "put"): ("put", "`put()` on a Manager's full queue"),
    ("<string>", "join"): ("queue-join", "`join()` on a Manager's queue"),
    ("<string>", "wait"): ("event", "`wait()` on a Manager's Event or Condition"),
    ("_base.py", "result"): ("future", "`result()` on a Future"),
    ("_base.py", "as_completed"): ("future", "`as_completed()` (a future never completes)"),
    ("_base.py", "wait"): ("future", "`wait()` on futures"),
    ("threading.py", "join"): ("thread-join", "`join()` on a thread"),
    ("threading.py", "wait"): ("event", "`wait()` on a threading Event or Condition"),
}
_EXITING = {"_exit_function", "_finalize_join", "_run_finalizers"}
_NAMES = {"process": ("process", "processes"), "pool": ("Pool worker", "Pool workers"),
          "executor": ("executor worker", "executor workers"), "unannounced": ("child process", "child processes"),
          "other": ("other process", "other processes")}


def _who(role: str | None, count: int, target: str) -> str:
    """How a student names a group of processes: "the caller", "3 processes (target `consume`)"."""
    if role == "caller":
        return "the caller (your function)"
    if role == "manager":
        return "the Manager's server"
    one, many = _NAMES.get(str(role), _NAMES["other"])
    who = f"{count} {many}" if count > 1 else f"a {one}"
    return who + (f" (target `{target.split('.')[-1]}`)" if target else "")


def _is_student(path: str, student_file: Path | None) -> bool:
    if student_file is None or "mpgrade_sandboxed" in path:
        return False
    return Path(path).name == student_file.name


def _source(student_file: Path | None, line: int) -> str:
    if student_file is None:
        return ""
    try:
        lines = student_file.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return ""
    return lines[line - 1].strip()[:120] if 0 < line <= len(lines) else ""


def describe_wait(wait: dict, student_file: Path | None) -> tuple[str, str, int | None]:
    """(kind, words, the student's line) for one process: what it waits on, as a student says it."""
    frames = [tuple(f) for f in wait.get("frames") or []]
    ours = next((i for i, f in enumerate(frames) if _is_student(f[0], student_file)), None)
    line = int(frames[ours][1]) if ours is not None else None
    if any(f[2] in _EXITING for f in frames[:ours]) and wait.get("role") != "caller":
        return ("exiting", "exiting, but held back until what it put on a queue has been read "
                "(a process flushes its queue's buffer before it can end)", line)
    if wait.get("state") == "running":
        return ("running", "running (using the CPU: a loop that never ends?)", line)
    if ours is not None:
        for frame in reversed(frames[:ours]):  # the library call the student's line made, outermost first
            if "mpgrade_sandboxed" in frame[0]:
                continue
            known = _WAITS.get((os.path.basename(frame[0]), frame[2]))
            if known is not None:
                return (*known, line)
        text = _source(student_file, line) if line else ""
        if "sleep(" in text:
            return ("sleep", "`time.sleep()`", line)
        if "acquire(" in text or text.startswith("with ") and "lock" in text.lower():
            return ("lock", "acquiring a lock", line)
    if wait.get("state") == "timed":
        return ("timed", "waiting with a timeout", line)
    if not frames:
        return ("unknown", "waiting (it did not say where)", line)
    return ("other", "waiting", line)


def lines(result, student_file: Path | None) -> list[str]:
    """One line per group of processes waiting in the same place, the caller first; then those that ended."""
    hang = result.hang or {}
    module = student_file.name if student_file is not None else "your file"
    groups: Counter = Counter()
    order: list[tuple] = []
    for wait in hang.get("waits") or []:
        if wait.get("role") == "helper":
            continue  # multiprocessing's fork server and resource tracker always wait: not the student's
        kind, words, line = describe_wait(wait, student_file)
        if wait.get("role") == "manager" and kind in ("timed", "other", "unknown"):
            continue  # a Manager's server idles between requests: it waits on nobody
        key = (wait.get("role"), _target(wait), words, line)
        if key not in groups:
            order.append(key)
        groups[key] += 1
    order.sort(key=lambda key: key[0] != "caller")
    out = []
    for role, target, words, line in order:
        count = groups[(role, target, words, line)]
        who = _who(role, count, str(target or ""))
        text = _source(student_file, line) if line else ""
        where = (f", at {module}:{line}" + (f": `{text}`" if text else "")) if line else ""
        plural = count > 1 and role not in ("caller", "manager")
        verb = ("are" if plural else "is") if words.startswith(("running", "exiting")) else \
            ("wait in" if plural else "waits in") if words.startswith("`") or words.startswith("the ") else \
            ("are" if plural else "is")
        out.append(f"- {who[0].upper()}{who[1:]} {verb} {words}{where}")
    gone: Counter = Counter((e.get("role"), _target(e), e.get("exitcode")) for e in hang.get("ended") or []
                            if e.get("role") not in ("helper", None))
    for (role, target, code), count in gone.items():
        who = _who(role, count, target)
        out.append(f"- {who[0].upper()}{who[1:]} had already ended" + (f" (exit code {code})" if code is not None
                                                                        else ""))
    return out


def _target(process: dict) -> str:
    """What a student started the process with (a Pool's or executor's workers run multiprocessing's own loop)."""
    return "" if process.get("role") in ("pool", "executor") else str(process.get("target") or "")


def cause(result, student_file: Path | None) -> str:
    """The classic deadlock these waits form, with the fix; "" when they form none the kit knows."""
    hang = result.hang or {}
    kinds: dict[str, set[str]] = {}
    for wait in hang.get("waits") or []:
        if wait.get("role") == "helper":
            continue
        kind, _, _ = describe_wait(wait, student_file)
        kinds.setdefault("caller" if wait.get("role") == "caller" else "others", set()).add(kind)
    caller, others = kinds.get("caller", set()), kinds.get("others", set())
    ended = [e for e in hang.get("ended") or [] if e.get("role") not in ("helper", None)]
    if "exiting" in others and caller & {"join"}:
        return ("The caller joins a process that cannot end before what it put on a queue is read, and nobody "
                "reads it while join() waits: drain the result queue (get every result) before join().")
    if others and others <= {"get"} and caller & {"join", "get"}:
        stopped = " (the producer has ended)" if ended else ""
        return ("Every worker waits for another item on its queue, and nothing will put one there"
                f"{stopped}: each consumer needs a stop value (sentinel) of its own. Put one sentinel per consumer "
                "after the items, and make the consumer stop on exactly that value.")
    if others and others <= {"recv"} and caller & {"join"}:
        return ("The child waits for a message that is never sent, and join() waits for the child: send the "
                "child its stop message (e.g. None) before you join it.")
    if "send" in caller | others and (others & {"send", "get", "recv"} or caller & {"send"}):
        return ("A pipe holds only a limited amount (about 64 KB): a send() blocks until the other end reads. "
                "Here both ends send and neither reads; read the replies as you go (send one number, read its "
                "square), or send from another process.")
    twice = _taken_twice(hang, student_file)
    if twice:
        return twice
    if caller == {"lock"} and not others:
        return ("Your process waits for a Lock that it holds itself: a Lock cannot be acquired twice by the same "
                "process (an RLock can). Take it once, in one with-block.")
    if "lock" in caller | others:
        return ("Every process waits for a Lock: one that holds it waits for something else, or it was never "
                "released. Keep only the shared update inside `with lock:`, never a wait.")
    if others & {"get", "recv"} and caller & {"pool", "future"}:
        return ("A worker's task waits for something that nobody will send (a queue or pipe no process feeds), so "
                "its result never comes and the caller waits for it forever. A task should only compute from its "
                "arguments and return.")
    if caller & {"manager"}:
        return ("The call on the Manager's proxy never got an answer: use the Manager's objects only inside its "
                "with-block, while the Manager runs.")
    return ""


def _taken_twice(hang: dict, student_file: Path | None) -> str:
    """A process that waits for a lock it already holds: it waits at a line inside (or called from inside) a
    ``with ...lock...:`` block of its own stack."""
    if student_file is None:
        return ""
    module = student_file.name
    for wait in hang.get("waits") or []:
        kind, _, line = describe_wait(wait, student_file)
        if kind != "lock" or line is None:
            continue
        ours = [int(f[1]) for f in wait.get("frames") or [] if _is_student(f[0], student_file)]
        for index, at in enumerate(ours):
            held = lock_held_at(student_file, at)
            if held is not None and held != line:
                who = _who(wait.get("role"), 1, _target(wait))
                return (f"{who[0].upper()}{who[1:]} already holds the lock (taken at {module}:{held}: "
                        f"`{_source(student_file, held)}`) and waits to take it again at {module}:{line}: a Lock "
                        "cannot be taken twice, not even by the process that holds it (an RLock can). Take it once, "
                        "around the update only, and do not take it again in a function called inside that block.")
    return ""


def _waits_text(result, student_file: Path | None) -> str:
    """The lines naming who waited where and the cause they form; "" when no process wrote where it waited."""
    hang = result.hang or {}
    described = lines(result, student_file)
    if not described or not any(w.get("frames") for w in hang.get("waits") or []):
        return ""
    found = cause(result, student_file)
    return "\n".join(described) + (f"\n{found}" if found else "")


def stopped(result, action: str, limit_s: float) -> str:
    """How a hung call ended, as a sentence start: deadlocked after so long, or stopped at its limit."""
    if (result.hang or {}).get("deadlock"):
        return f"{action} deadlocked and was stopped after {result.hang.get('after_s', 0):.1f} s"
    return f"{action} did not finish within {limit_s:g} s and was stopped"


def explain(result, action: str, timeout_s: float, student_file: Path | None) -> str:
    """The whole feedback for a hung call; "" when no process could be described (the caller's generic words)."""
    text = _waits_text(result, student_file)
    if not text:
        return ""
    if (result.hang or {}).get("deadlock"):
        head = (f"{action} was stopped after {result.hang.get('after_s', 0):.1f} s: every process of it was waiting "
                "for another, with no timeout, and none could go on (a deadlock).")
    else:
        head = f"{action} did not finish within {timeout_s:g} s and was stopped. When it was stopped:"
    return head + "\n" + text


def describe_hang(result, student_file: Path | None) -> str:
    """For graders with their own words for a hang: who waited where, and the classic deadlock it forms if the kit
    knows it; "" when no process could be described."""
    text = _waits_text(result, student_file)
    return "When it was stopped:\n" + text if text else ""


def hang_waits(result, student_file: Path | None) -> set[str]:
    """The kinds of wait the processes of a hung call were in ("get", "recv", "send", "join", "lock", "pool", ...,
    "running", "exiting"): what a grader tells one deadlock from another by."""
    return {describe_wait(wait, student_file)[0] for wait in (result.hang or {}).get("waits") or []
            if wait.get("role") != "helper"}
