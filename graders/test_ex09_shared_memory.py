"""Grader for exercise 9: numpy in SharedMemory, disjoint slices, close and unlink."""
from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import NamedTuple

import numpy
import pytest

from mpgrade import (
    CheckFailed, Exercise, GradingError, calls, check, child_crash, fail, index_list, require_clean_exit, short,
    started_processes, started_with,
)
from mpgrade import describe_raised

EXERCISE = Exercise(
    title="numpy in SharedMemory, disjoint slices, close and unlink",
    points=10,
    you_write="`scale_slice`, `parallel_scale`",
    goals="`SharedMemory` + numpy views; attach by name; `close()` everywhere, `unlink()` once",
)

EDGES = (("7 elements for 3 processes, which does not divide evenly", 7, 3),
         ("a single element", 1, 2),
         ("more processes than elements", 3, 5))
"""Fixed edge cases every grading runs besides a random array: (what it is, size, n_processes). The docstring
does not promise an empty array (a block of array.nbytes = 0 bytes cannot be created), so none is tried."""
EDGE_FACTOR = -2.5


def _each(student, function: str, cases: list[tuple], labels: list[str], timeout: float):
    """``student.each`` on a check's cases, in one sandbox; a hang names the case it stopped in (the last case
    mark the driver printed)."""
    __tracebackhide__ = True
    try:
        return student.each(function, cases, timeout=timeout)
    except GradingError:
        raise
    except CheckFailed as failure:
        marks = re.findall(r"\[mpgrade\] case (\d+)", failure.feedback)
        if not marks or int(marks[-1]) >= len(cases):
            raise
        index = int(marks[-1])
        lines = [line for line in failure.feedback.splitlines() if "[mpgrade] case" not in line]
        if lines and lines[-1].startswith("Your code printed"):
            lines.pop()
        call = f"{function}({', '.join(short(a) for a in cases[index])})"
        where = f"the edge case {call} ({labels[index]})" if labels[index] else f"the case {call}"
        raise CheckFailed(f"On {where}:\n" + "\n".join(lines)) from None


def _array(rng, size: int) -> numpy.ndarray:
    return numpy.array([rng.uniform(-1000, 1000) for _ in range(size)], dtype=numpy.float64)


def _edge_array(size: int) -> numpy.ndarray:
    """Non-zero values of both signs (a zero would look the same scaled or not)."""
    return numpy.array([1.5 * (i + 1) * (-1) ** i for i in range(size)], dtype=numpy.float64)


def _cases(rng, factor: float, processes: int) -> list[tuple[str, numpy.ndarray, float, int]]:
    """(what it is, array, factor, n_processes): a random array first, then the fixed edge cases."""
    return [("", _array(rng, rng.randrange(1_000, 5_000)), factor, processes),
            *((label, _edge_array(size), EDGE_FACTOR, n) for label, size, n in EDGES)]


# -- the student's file, parsed (never imported) ----------------------------------------------------------------

POOL_METHODS = {"map", "starmap", "imap", "imap_unordered", "map_async", "starmap_async", "apply", "apply_async",
                "submit"}
NOT_A_BLOCK = {"Pool", "Process", "ProcessPoolExecutor", "ThreadPool", "Pipe", "Queue", "SimpleQueue",
               "JoinableQueue", "Manager", "SharedMemoryManager", "open", "get_context"}


class Place(NamedTuple):
    """A call in the student's file."""

    line: int
    source: str
    function: str


class BlockUse:
    """Where the student's file creates, closes and unlinks SharedMemory blocks, split into what parallel_scale
    runs in its own process (itself and the functions it calls) and what the workers run (their targets, as
    witnessed, the functions handed to a Pool or executor, and what those call)."""

    def __init__(self) -> None:
        self.parsed = False
        self.parent: set[str] = set()
        self.workers: set[str] = set()
        self.creates: list[Place] = []
        self.parent_closes: list[Place] = []
        self.parent_unlinks: list[Place] = []
        self.worker_closes: list[Place] = []
        self.worker_unlinks: list[Place] = []


def _name(node: ast.AST) -> str:
    """``a.b.c`` for a name or an attribute chain, else ""."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        inner = _name(node.value)
        return f"{inner}.{node.attr}" if inner else ""
    return ""


def _callee(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def _block_use_in(path: Path, worker_targets: set[str]) -> BlockUse:
    """What the file does with SharedMemory, parallel_scale's side and the workers' side apart."""
    use = BlockUse()
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
        tree = ast.parse(text)
    except (OSError, SyntaxError, ValueError):
        return use
    lines = text.splitlines()
    use.parsed = True
    functions: dict[str, ast.AST] = {}
    classes: dict[str, list[str]] = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            functions[node.name] = node
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    functions[f"{node.name}.{item.name}"] = item
                    classes.setdefault(node.name, []).append(f"{node.name}.{item.name}")
            if any((base.attr if isinstance(base, ast.Attribute) else getattr(base, "id", "")) == "Process"
                   for base in node.bases) and f"{node.name}.run" in functions:  # also get_context(...).Process
                worker_targets = worker_targets | {f"{node.name}.run"}
    creators = {"SharedMemory"}  # names that make a block: SharedMemory itself and its aliases
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            creators |= {alias.asname or alias.name for alias in node.names if alias.name == "SharedMemory"}
        elif isinstance(node, ast.Assign) and _name(node.value).endswith("SharedMemory"):
            creators |= {t.id for t in node.targets if isinstance(t, ast.Name)}

    def is_creation(node: ast.AST) -> bool:
        return isinstance(node, ast.Call) and (_name(node.func) in creators or (
            isinstance(node.func, ast.Attribute) and node.func.attr == "SharedMemory"))

    # Functions handed to something that runs them elsewhere: Process(target=f), pool.map(f, ...), partial(f, ...).
    roots = {t for t in worker_targets if t in functions}
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        handed = [k.value for k in node.keywords if k.arg in ("target", "initializer")]
        if isinstance(node.func, ast.Attribute) and node.func.attr in POOL_METHODS and node.args:
            handed.append(node.args[0])
        for value in handed:
            if isinstance(value, ast.Call) and _callee(value) == "partial" and value.args:
                value = value.args[0]
            if isinstance(value, ast.Name) and value.id in functions:
                roots.add(value.id)

    def called(name: str) -> set[str]:
        owner = name.split(".")[0] if "." in name else None
        found = set()
        for node in ast.walk(functions[name]):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            if isinstance(func, ast.Name):
                if func.id in functions:
                    found.add(func.id)
                found |= set(classes.get(func.id, []))
            elif isinstance(func, ast.Attribute):
                if isinstance(func.value, ast.Name) and func.value.id in ("self", "cls") and owner:
                    found |= {f"{owner}.{func.attr}"} & set(functions)
                else:
                    found |= {m for methods in classes.values() for m in methods if m.endswith("." + func.attr)}
        return found

    def reach(start: set[str], stop: set[str]) -> set[str]:
        seen, todo = set(), [s for s in start if s in functions]
        while todo:
            name = todo.pop()
            if name in seen:
                continue
            seen.add(name)
            todo += [n for n in called(name) if n not in seen and n not in stop]
        return seen

    use.parent = reach({"parallel_scale"}, roots)
    use.workers = reach(roots, set()) - use.parent

    # Names that hold a block, per function; attributes (self.x) that hold one, per module.
    tracked: dict[str, set[str]] = {name: set() for name in functions}
    attributes: set[str] = set()
    returns_block: dict[str, set[int]] = {}  # function -> positions of its returned tuple that hold a block (-1: all)

    def holds(expr: ast.AST, names: set[str]) -> bool:
        if is_creation(expr):
            return True
        if isinstance(expr, ast.Name):
            return expr.id in names
        if isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name) and expr.value.id in ("self", "cls"):
            return expr.attr in attributes
        if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name) and -1 in returns_block.get(expr.func.id, ()):
            return True
        return False

    def bind(target: ast.AST, value: ast.AST, names: set[str]) -> bool:
        before = len(names), len(attributes)
        if isinstance(target, ast.Name) and holds(value, names):
            names.add(target.id)
        elif isinstance(target, ast.Attribute) and holds(value, names):
            attributes.add(target.attr)
        elif isinstance(target, (ast.Tuple, ast.List)):
            if isinstance(value, (ast.Tuple, ast.List)):
                for t, v in zip(target.elts, value.elts):
                    bind(t, v, names)
            elif isinstance(value, ast.Call) and isinstance(value.func, ast.Name):
                for index, t in enumerate(target.elts):
                    if index in returns_block.get(value.func.id, ()) and isinstance(t, ast.Name):
                        names.add(t.id)
        return (len(names), len(attributes)) != before

    for _ in range(4):  # to a fixed point: helpers that take or return a block
        changed = False
        for name, function in functions.items():
            names = tracked[name]
            for node in ast.walk(function):
                if isinstance(node, ast.Assign):
                    changed |= any([bind(t, node.value, names) for t in node.targets])
                elif isinstance(node, (ast.AnnAssign, ast.NamedExpr)) and node.value is not None:
                    changed |= bind(node.target, node.value, names)
                elif isinstance(node, (ast.With, ast.AsyncWith)):
                    changed |= any([bind(i.optional_vars, i.context_expr, names) for i in node.items if i.optional_vars])
                elif isinstance(node, ast.For) and isinstance(node.iter, (ast.Tuple, ast.List)) \
                        and isinstance(node.target, ast.Name) and node.target.id not in names \
                        and any(holds(e, names) for e in node.iter.elts):  # for block in (a, b): block.close()
                    names.add(node.target.id)
                    changed = True
                elif isinstance(node, ast.Return) and node.value is not None:
                    spots = returns_block.setdefault(name, set())
                    if holds(node.value, names) and -1 not in spots:
                        spots.add(-1)
                        changed = True
                    elif isinstance(node.value, ast.Tuple):
                        for index, element in enumerate(node.value.elts):
                            if holds(element, names) and index not in spots:
                                spots.add(index)
                                changed = True
                elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in functions:
                    params = functions[node.func.id].args  # type: ignore[attr-defined]
                    positional = [a.arg for a in params.posonlyargs + params.args]
                    passed = list(zip(positional, node.args)) + [(k.arg, k.value) for k in node.keywords if k.arg]
                    for param, value in passed:
                        if holds(value, names) and param not in tracked[node.func.id]:
                            tracked[node.func.id].add(param)
                            changed = True
        if not changed:
            break

    def place(node: ast.AST, function: str) -> Place:
        line = getattr(node, "lineno", 0)
        return Place(line, lines[line - 1].strip()[:200] if 0 < line <= len(lines) else "", function)

    others: dict[str, set[str]] = {}
    for name, function in functions.items():
        others[name] = {t.id for node in ast.walk(function) if isinstance(node, ast.Assign)
                        and isinstance(node.value, ast.Call) and _callee(node.value) in NOT_A_BLOCK
                        for t in node.targets if isinstance(t, ast.Name)}
        others[name] |= {node.target.id for node in ast.walk(function)
                         if isinstance(node, ast.For) and isinstance(node.target, ast.Name)}
        others[name] |= {i.optional_vars.id for node in ast.walk(function) if isinstance(node, ast.With)
                         for i in node.items if isinstance(i.optional_vars, ast.Name)
                         and isinstance(i.context_expr, ast.Call) and _callee(i.context_expr) in NOT_A_BLOCK}
    any_block = any(tracked.values()) or bool(attributes)

    def receiver_holds(receiver: ast.AST, function: str) -> bool:
        if holds(receiver, tracked[function]):
            return True
        # No block traced anywhere in the file (made in a way not followed here): any receiver but a known other
        # kind of object (a Pool, a Process, a loop variable) may be the block.
        return not any_block and not (isinstance(receiver, ast.Name) and receiver.id in others[function])
    for current, function in functions.items():
        side = "parent" if current in use.parent else "worker" if current in use.workers else None
        if side is None:
            continue
        names = tracked[current]
        called_attributes = {id(node.func) for node in ast.walk(function) if isinstance(node, ast.Call)}
        for node in ast.walk(function):
            if is_creation(node) and side == "parent":
                use.creates.append(place(node, current))
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                    and node.func.attr in ("close", "unlink") and _name(node.func.value) != "os":
                if node.func.attr == "unlink" or receiver_holds(node.func.value, current):
                    getattr(use, f"{side}_{node.func.attr}s").append(place(node, current))
            elif isinstance(node, ast.Attribute) and node.attr == "close" and id(node) not in called_attributes \
                    and holds(node.value, names):  # handed on to be called later: stack.callback(block.close)
                getattr(use, f"{side}_closes").append(place(node, current))
            elif isinstance(node, ast.Call) and _callee(node) == "closing" and node.args and holds(node.args[0], names):
                getattr(use, f"{side}_closes").append(place(node, current))
    for places in (use.creates, use.parent_closes, use.parent_unlinks, use.worker_closes, use.worker_unlinks):
        places.sort(key=lambda p: p.line)
    return use


def _block_use(student, result) -> BlockUse:
    targets = {str(p.get("target", "")) for p in started_processes(result, "process")}
    return _block_use_in(student.path, targets)


# -- the checks ----------------------------------------------------------------------------------------------------

def _scale_mismatch(array: numpy.ndarray, factor: float, processes: int, got, result, path) -> str:
    """Why parallel_scale's values are wrong, the most specific evidence first: a worker's crash, elements
    scaled twice (overlapping slices), none scaled (a copy handed to the workers, or read before join), some
    never scaled (slices that leave a gap)."""
    call = (f"parallel_scale(<{array.size} floats>, {factor}, {processes})" if array.size > 8
            else f"parallel_scale(numpy.array({array.tolist()}), {factor}, {processes})")
    if not isinstance(got, numpy.ndarray):
        return f"{call} returned a {type(got).__name__}; return a numpy.ndarray (copy it out of the block)."
    if got.shape != array.shape:
        return f"{call} returned an array of shape {got.shape}; expected {array.shape}, the shape of the input."
    crash = child_crash(result, path)
    expected = array * factor
    wrong = [int(i) for i in numpy.flatnonzero(~numpy.isclose(got, expected, rtol=1e-12, atol=0))]
    first = wrong[0]
    text = (f"{call} returned a wrong value at {len(wrong)} of {array.size} indices. The first is index {first}: "
            f"{float(got[first])!r}, expected {float(expected[first])!r} ({float(array[first])!r} * {factor}).")
    if crash:
        return f"{text}\nA worker process failed before scaling its slice:\n{crash}"
    twice = [i for i in wrong if abs(factor) not in (0.0, 1.0)
             and numpy.isclose(got[i], array[i] * factor * factor, rtol=1e-12, atol=0)]
    if twice:
        return (f"{text}\nIndex {index_list(twice)} {'was' if len(twice) == 1 else 'were'} scaled twice "
                f"(multiplied by {factor} two times): two workers' slices both include "
                f"{'it' if len(twice) == 1 else 'them'}, so the slices overlap. With bounds = "
                "[size * i // n for i in range(n + 1)], worker i scales [bounds[i]:bounds[i + 1]]; a slice's stop "
                "is the next one's start and is not part of it.")
    unchanged = [i for i in wrong if got[i] == array[i]]
    started, joined = calls(result, "Process.start"), calls(result, "Process.join")
    if unchanged and len(unchanged) == len(wrong) and started and joined < started:
        return (f"{text}\nparallel_scale started {started} worker(s) and called join() {joined} time(s): it "
                "copied the result out of the block before the workers had finished. join() every worker first.")
    if len(unchanged) == array.size:
        copy = started_with(result, ("ndarray", "list"))
        if copy:
            kind = "numpy array" if "ndarray" in copy["arg_types"] else "list"
            return (f"{text}\nNo element changed: each worker was handed a {kind} (an argument of "
                    f"{copy['target']}), and a process's arguments are pickled, so the worker scaled its own copy, "
                    "never the shared block. Pass the block's name (block.name), the shape and the dtype, and let "
                    "the worker attach with SharedMemory(name=name) and scale a view of the block in place.")
        if processes > array.size:
            return (f"{text}\nNo element changed, with more processes ({processes}) than elements ({array.size}): "
                    "a slice length of len(array) // n_processes is 0 here, so every slice is empty. Compute the "
                    "bounds as [size * i // n_processes for i in range(n_processes + 1)]: they cover the whole array "
                    "for any size (some slices are then empty).")
        return (f"{text}\nNo element changed, though {len(started_processes(result))} worker process(es) ran: what "
                "they computed never reached the result. The worker must scale a view of the block in place "
                "(view[start:stop] *= factor; `x = view[start:stop] * factor` makes a new array), and "
                "parallel_scale must copy the result out of the block only after join() has returned.")
    if unchanged and len(unchanged) == len(wrong):
        remainder = array.size % processes
        tail = unchanged == list(range(array.size - remainder, array.size)) and remainder
        return (f"{text}\nIndex {index_list(unchanged)} {'was' if len(unchanged) == 1 else 'were'} never scaled: "
                f"no worker's slice holds {'it' if len(unchanged) == 1 else 'them'}. "
                + (f"They are the last {remainder} element(s): {array.size} elements do not divide evenly among "
                   f"{processes} processes, and slices of len(array) // n_processes elements each leave the "
                   "remainder out. " if tail else "")
                + "Together the workers' slices must cover the whole array, each one [bounds[i]:bounds[i + 1]] with "
                  "bounds = [size * i // n_processes for i in range(n_processes + 1)], the last ending at len(array).")
    return f"{text}\nEvery element must be scaled exactly once, in place, by the worker whose slice holds it."


@pytest.mark.points(4)
def test_parallel_scale_is_correct(student, rng):
    """parallel_scale returns array * factor as a numpy array: a random array, and fixed edge cases (a size
    n_processes does not divide, a single element, more processes than elements)"""
    cases = _cases(rng, round(rng.uniform(-4, 4), 3), 2)
    result, outcomes = _each(student, "parallel_scale", [(array, factor, n) for _, array, factor, n in cases],
                             [c[0] for c in cases], 90)
    for (label, array, factor, n), outcome in zip(cases, outcomes):
        prefix = f"On a fixed edge case ({label}): " if label else ""
        if "raised" in outcome:
            call = (f"parallel_scale(<{array.size} floats>, {factor}, {n})" if array.size > 8
                    else f"parallel_scale(numpy.array({array.tolist()}), {factor}, {n})")
            fail(prefix + describe_raised(f"`{call}`", outcome["raised"], student.path, result.api_calls))
        got = outcome.get("value")
        if not (isinstance(got, numpy.ndarray) and got.shape == array.shape
                and numpy.allclose(got, array * factor, rtol=1e-12, atol=0)):
            fail(prefix + _scale_mismatch(array, factor, n, got, result, student.path))


@pytest.mark.points(2)
def test_workers_attach_to_a_shared_memory_block(student, rng):
    """parallel_scale creates a SharedMemory block (a SharedMemory(...) call in parallel_scale or a function it
    calls, read from the source) and starts at least two worker processes for n_processes=3 (seen from outside)"""
    result = student.call("parallel_scale", _array(rng, 1_000), 2.0, 3, timeout=60)
    use = _block_use(student, result)
    if use.parsed and not use.creates:
        made = calls(result, "SharedMemory.__init__")
        fail("parallel_scale does not create a multiprocessing.shared_memory.SharedMemory block: your file has no "
             "SharedMemory(...) call in parallel_scale or in a function it calls"
             + (" (the blocks it opens are opened in the worker processes)" if made and use.workers else "")
             + ". Create the block in parallel_scale, SharedMemory(create=True, size=array.nbytes), copy the array "
               "in, and hand the workers its name.")
    workers = started_processes(result)
    if not workers:
        fail("parallel_scale(<1000 floats>, 2.0, 3) started no worker process: the scaling ran in the calling "
             "process. Start n_processes worker processes (Process objects, or a Pool) that each attach to the "
             "block by name and scale their slice.")
    check(len(workers) >= 2,
          f"parallel_scale(<1000 floats>, 2.0, 3) started only {len(workers)} worker process: split the array into "
          "n_processes slices, one per worker process.")


@pytest.mark.points(3)
def test_block_is_closed_and_unlinked(student, rng):
    """parallel_scale closes and unlinks its block in its own process, and leaves no worker running

    Unlinked: nothing of it is left in /dev/shm, as the kernel shows. Closed: a close() of the block in
    parallel_scale or a function it calls, read from the source (CPython closes a forgotten block by itself
    when the function returns). A random array and the fixed edge cases."""
    cases = _cases(rng, 3.0, 2)
    result, outcomes = _each(student, "parallel_scale", [(array, factor, n) for _, array, factor, n in cases],
                             [c[0] for c in cases], 90)
    for (label, _, _, n), outcome in zip(cases, outcomes):
        if "raised" in outcome:  # its error first (a stub's TODO, a crash): the block's fate follows from it
            fail(describe_raised(f"`parallel_scale(<array>, 3.0, {n})` ({label or 'a random array'})", outcome["raised"], student.path,
                         result.api_calls))
    use = _block_use(student, result)
    if use.worker_unlinks:
        place = use.worker_unlinks[0]
        crash = child_crash(result, student.path)
        where = f"{student.path.name}:{place.line}: {place.source}"
        fail((f"{where} unlinks the block in {place.function}(), which every worker process runs, and "
              "parallel_scale unlinks it too" if use.parent_unlinks else
              f"parallel_scale itself never calls unlink(); {where} calls it in {place.function}(), which every "
              "worker process runs")
             + ". The first worker to get there removes the block while the others may still need it: attaching to "
               "it, or unlinking it again, then fails."
             + (f"\n{crash}" if crash else "")
             + "\nUnlink once, in parallel_scale (the process that created the block), after joining the workers; "
               "the workers only close() it.")
    require_clean_exit(result, f"parallel_scale (called {len(cases)} times, once per case: a random array and "
                               "the fixed edge cases)")
    if use.parsed and not use.parent_closes:
        elsewhere = use.worker_closes[0] if use.worker_closes else None
        fail(("parallel_scale unlinks its block but never calls close() on it" if use.parent_unlinks else
              "parallel_scale never calls close() on its block")
             + (f" (the close() at {student.path.name}:{elsewhere.line} is in {elsewhere.function}(), which the "
                "workers run: it closes the worker's own view)" if elsewhere else "")
             + (f"; the kernel shows the calling process still mapping {len(result.shm_mapped)} block(s) when it "
                "returned" if result.shm_mapped else "")
             + ". Every process that opened the block closes it: in parallel_scale, copy the result out, `del` the "
               "numpy view, then block.close() and block.unlink().")
