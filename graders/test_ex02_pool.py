"""Grader for exercise 2: Pool map, CPU-bound work in worker processes, apply_async.

Points rest on effects: the values returned (random inputs, and fixed edge cases in one more sandboxed call:
one item, more processes than items, a size not divisible by the processes, none), the grader tasks the
witness saw run and in which process (a ThreadPool's threads run them in the caller), the CPU spent in
child processes, the processes left running. How the Pool is shut down and that async_squares uses
apply_async are questions of how the code is written: the file is parsed (never run) for them. API counts
only choose the words.
"""
from __future__ import annotations

import ast
import dataclasses
import re
from collections import namedtuple
from pathlib import Path

import pytest

from mpgrade import (
    CheckFailed, Exercise, GradingError, calls, check, check_speedup, count_primes_below, element_text, fail,
    first_difference, require_clean_exit, require_work_in_children, short, started_processes, still_running, task,
    task_records, usable_cpus, worker_pids,
)

EXERCISE = Exercise(
    title="Pool map, CPU-bound work in worker processes, apply_async",
    points=10,
    you_write="`parallel_map`, `primes_in_ranges`, `async_squares`",
    goals="`Pool` as a context manager; `map` keeps input order; CPU-bound work in processes, not threads; `apply_async` + `.get()`",
)


SPEEDUP_LIMIT = 150_000
SLOW_NUMBERS = (3, -1, 4, 1, -5, 9, 2, -6)
"""The values of the grader task ``slow_numbers`` (mpgrade_sandboxed/tasks.py): ints whose squares each take
SLOW_SQUARE_S in the process that computes them, witnessed as task "slow_square"."""
SLOW_SQUARE_S = 0.25


# --- The fixed edge cases, run in one sandboxed call per check -------------------------------------------------

def _edge_cases(student, function: str, cases: list[tuple], why: list[str], timeout: float | None = None):
    """``student.each`` on a check's fixed edge cases; a hang names the case it stopped in (the last case mark)."""
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
        args = ", ".join(short(a) for a in cases[index])
        raise CheckFailed(f"On the edge case {function}({args}) ({why[index]}):\n" + "\n".join(lines)) from None


def _judge_values(function: str, cases: list[tuple], why: list[str], outcomes: list[dict], expected: list[list],
                  fix: str) -> None:
    """Fail on the first edge case whose outcome is not its expected list: the case, why it is an edge, the value
    or the error with the student's line, and ``fix``."""
    __tracebackhide__ = True
    for args, reason, outcome, wanted in zip(cases, why, outcomes, expected):
        call = f"{function}({', '.join(short(a) for a in args)})"
        if "raised" in outcome:
            raised = outcome["raised"]
            where = raised.get("where") or {}
            fail(f"On the edge case {call} ({reason}) it raised {raised.get('type')}: {raised.get('message')}"
                 + (f"\n  at {where.get('file')}:{where.get('line')}: {where.get('source', '')}" if where else "")
                 + f"\n{fix}")
        got = outcome.get("value")
        if got != wanted:
            index = first_difference(got, wanted) if isinstance(got, list) else None
            detail = f": {element_text(got, wanted, index)}" if index is not None else ""
            fail(f"On the edge case {call} ({reason}) it returned {short(got)}; expected {short(wanted)}{detail}. "
                 + fix)


# --- The file, parsed: how the Pool is shut down, and where apply_async is used ----------------------------------

PoolInSource = namedtuple("PoolInSource", "line how")
"""A Pool (or executor) the student's function creates (its line), and ``how`` its file shuts it down: "with" (a
with-block, closing() or an ExitStack), "finally" (close()+join() or terminate() in a finally), "close_join" or
"terminate" (called, but not in a finally), "never"."""


POOL_CLASSES = ("Pool", "ThreadPool", "ProcessPoolExecutor", "ThreadPoolExecutor")


def _callee(node: ast.AST) -> str:
    if isinstance(node, ast.Call):
        node = node.func
    return node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", "")


def _functions(tree: ast.Module) -> dict[str, ast.FunctionDef]:
    return {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}


def _reachable(path: Path, start: str) -> list[ast.FunctionDef]:
    """``start`` and the module's functions it calls by name, and those they call (the file parsed, never run)."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8", errors="replace"))
    except (OSError, SyntaxError, ValueError):
        return []
    functions = _functions(tree)
    found, todo = [], [start]
    while todo:
        name = todo.pop()
        function = functions.get(name)
        if function is None or function in found:
            continue
        found.append(function)
        todo += [_callee(node) for node in ast.walk(function) if isinstance(node, ast.Call)
                 and isinstance(node.func, ast.Name)]
    return found


def _parents(function: ast.FunctionDef) -> dict[ast.AST, ast.AST]:
    return {child: node for node in ast.walk(function) for child in ast.iter_child_nodes(node)}


def _method_calls(function: ast.AST, name: str, method: str) -> list[ast.Call]:
    """Calls ``name.method(...)`` in ``function``."""
    return [node for node in ast.walk(function) if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr == method and isinstance(node.func.value, ast.Name) and node.func.value.id == name]


def _managed_name(function: ast.FunctionDef, name: str) -> str:
    """How ``function`` shuts down the Pool it keeps in ``name``."""
    for node in ast.walk(function):
        if isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                expr = item.context_expr
                if isinstance(expr, ast.Call) and _callee(expr) == "closing" and expr.args:
                    expr = expr.args[0]
                if isinstance(expr, ast.Name) and expr.id == name:
                    return "with"
        if isinstance(node, ast.Call) and _callee(node) == "enter_context" and node.args \
                and isinstance(node.args[0], ast.Name) and node.args[0].id == name:
            return "with"
        if isinstance(node, ast.Try) and node.finalbody:
            final = ast.Module(body=node.finalbody, type_ignores=[])
            if _method_calls(final, name, "terminate") or (_method_calls(final, name, "close")
                                                           and _method_calls(final, name, "join")):
                return "finally"
        if isinstance(node, ast.Try) and node.handlers:  # stopped in `except`, closed and joined after
            handlers = ast.Module(body=list(node.handlers), type_ignores=[])
            if (_method_calls(handlers, name, "terminate") or _method_calls(handlers, name, "close")) \
                    and _method_calls(function, name, "close") and _method_calls(function, name, "join"):
                return "finally"
    if _method_calls(function, name, "close") and _method_calls(function, name, "join"):
        return "close_join"
    if _method_calls(function, name, "terminate"):
        return "terminate"
    return "never"


def pools_in_source(path: Path, start: str) -> list[PoolInSource]:
    """Every Pool (or executor) that ``start`` and the functions it calls create, with how each is shut down.
    Not listed: a Pool a function returns (its caller's to shut down), or hands to another function, or keeps
    somewhere else than a plain name (the file alone cannot tell what happens to it there)."""
    found = []
    for function in _reachable(path, start):
        parents = _parents(function)
        for node in ast.walk(function):
            if not (isinstance(node, ast.Call) and _callee(node) in POOL_CLASSES):
                continue
            line, name = node.lineno, None
            parent = parents.get(node)
            while True:  # through `closing(...)`, `stack.enter_context(...)` and `(pool := ...)` to the statement
                if isinstance(parent, ast.Call) and _callee(parent) in ("closing", "enter_context"):
                    if _callee(parent) == "enter_context":
                        break
                    node, parent = parent, parents.get(parent)
                elif isinstance(parent, ast.NamedExpr) and isinstance(parent.target, ast.Name):
                    name = parent.target.id
                    node, parent = parent, parents.get(parent)
                else:
                    break
            if isinstance(parent, ast.withitem) or (isinstance(parent, ast.Call)
                                                    and _callee(parent) == "enter_context"):
                found.append(PoolInSource(line, "with"))
            elif isinstance(parent, (ast.Assign, ast.AnnAssign)):
                targets = parent.targets if isinstance(parent, ast.Assign) else [parent.target]
                names = [t.id for t in targets if isinstance(t, ast.Name)]
                if names:
                    found.append(PoolInSource(line, _managed_name(function, names[0])))
            elif name is not None:
                found.append(PoolInSource(line, _managed_name(function, name)))
            elif isinstance(parent, (ast.Attribute, ast.Expr)):  # Pool(...).map(...), or made and dropped
                found.append(PoolInSource(line, "never"))
    return found


def uses_in_source(path: Path, start: str, attribute: str) -> list[int]:
    """Lines where ``start`` or the functions it calls use ``.attribute`` (called or not: ``submit =
    pool.apply_async`` counts)."""
    return sorted(node.lineno for function in _reachable(path, start) for node in ast.walk(function)
                  if isinstance(node, ast.Attribute) and node.attr == attribute)


def _get_chained_on_apply_async(path: Path) -> int | None:
    """The line of ``pool.apply_async(...).get()`` in async_squares (or a function it calls), if any."""
    for function in _reachable(path, "async_squares"):
        for node in ast.walk(function):
            if isinstance(node, ast.Call) and _callee(node) == "get" and isinstance(node.func, ast.Attribute) \
                    and isinstance(node.func.value, ast.Call) and _callee(node.func.value) == "apply_async":
                return node.lineno
    return None


def _no_shutdown(result, path: Path, pools: list[PoolInSource]) -> str:
    """Feedback for a Pool that is not always shut down: what parallel_map does instead, at which line."""
    bad = next(p for p in pools if p.how not in ("with", "finally"))
    at = f"{path.name}:{bad.line}"
    ask = ("Open it in a with-block (`with multiprocessing.Pool(processes) as pool:`), or call close() and join() "
           "on it in a finally block.")
    if bad.how == "close_join":
        return (f"parallel_map shuts its Pool ({at}) down with close() and join(), but not in a finally block: if "
                f"pool.map raises, those lines are skipped and the workers are left running. {ask} Either shuts "
                "the Pool down however the function ends.")
    if bad.how == "terminate":
        return (f"parallel_map stops its Pool ({at}) with terminate(), but not in a finally block: if pool.map "
                f"raises, that line is skipped and the workers are left running. {ask}")
    alive = len(still_running(result))
    return (f"parallel_map never shuts its Pool down ({at} creates it): no with-block, and no close() and join()"
            + (f"; {alive} of its worker processes were still running when it returned" if alive else "")
            + f". {ask} Then its worker processes are stopped when the function ends, even when something fails.")


def _threads_instead(result, what: str, runs: int) -> str:
    """Feedback for work that no worker process did: it ran in the calling process (threads, or no pool at all).
    The witness shows it; the API counts only name the tool."""
    if calls(result, "ThreadPool.__init__"):
        tool = ("it uses a ThreadPool (multiprocessing.pool.ThreadPool or multiprocessing.dummy.Pool), whose workers "
                "are threads of the calling process")
    elif calls(result, "ThreadPoolExecutor.submit", from_student=False):
        tool = "it uses a ThreadPoolExecutor, whose workers are threads of the calling process"
    else:
        tool = "no worker process did the work"
    return (f"{what}: its {runs} tasks ran in 0 worker process(es), all of them in the calling process itself: "
            f"{tool}. Threads share one process, so CPU-bound work does not run in parallel. Use "
            "multiprocessing.Pool(processes) so the work runs in worker processes.")


# --- parallel_map ------------------------------------------------------------------------------------------------

MAP_EDGES_WHY = ["a single item", "more processes than items", "no items", "7 items for 3 processes"]


@pytest.mark.points(1)
def test_parallel_map_keeps_input_order(student, rng):
    """parallel_map returns func(item) for every item, in input order (also for one item, more processes than
    items, 7 items for 3 processes, and no items)"""
    items = [rng.randrange(-1000, 1000) for _ in range(rng.randrange(8, 15))]
    result = student.call("parallel_map", task("square"), items, 2)
    got = result.value
    expected = [x * x for x in items]
    if got != expected:
        text = f"parallel_map(square, {short(items)}, 2) returned {short(got)}"
        if not isinstance(got, list):
            fail(f"{text}, which is not a list. Return the list pool.map(func, items) gives.")
        text += f": {element_text(got, expected, first_difference(got, expected))}."
        if sorted(got) == sorted(expected):
            unordered = calls(result, "Pool.imap_unordered")
            fail(f"{text} Every result is there, in another order"
                 + (": pool.imap_unordered gives results as they finish. " if unordered else ". ")
                 + "pool.map(func, items) returns them in the order of items.")
        fail(f"{text} Return pool.map(func, items): func(item) for every item, in the order of items.")
    cases = [(task("square"), [-7], 2), (task("square"), [3, -1, 2], 5), (task("square"), [], 2),
             (task("square"), [5, -3, 0, 8, -8, 1, 2], 3)]
    _, outcomes = _edge_cases(student, "parallel_map", cases, MAP_EDGES_WHY)
    _judge_values("parallel_map", cases, MAP_EDGES_WHY, outcomes, [[x * x for x in c[1]] for c in cases],
                  "Return pool.map(func, items): func(item) for every item, in the order of items, whatever their "
                  "number ([] for none).")


@pytest.mark.points(2)
def test_parallel_map_uses_pool_worker_processes(student):
    """parallel_map spreads the work over the worker processes of a Pool it always shuts down (a with-block, or
    close() and join() or terminate() in a finally), and leaves none running (also for one item, more processes
    than items, and no items)"""
    items = list(range(16))
    result = student.call("parallel_map", task("pause_square"), items, 2)
    check(result.value == [x * x for x in items], f"parallel_map returned {short(result.value)} for {short(items)}.")
    pids = worker_pids(result)
    runs = task_records(result, "pause_square")
    if runs and not pids:
        fail(_threads_instead(result, "parallel_map(pause_square, range(16), 2)", len(runs)))
    check(len(pids) >= 2,
          f"16 tasks that each take 0.1 s ran in {len(pids)} worker process(es); with processes=2 "
          "they should spread over 2. Create multiprocessing.Pool(processes) and call pool.map.")
    pools = pools_in_source(student.path, "parallel_map")
    if any(p.how not in ("with", "finally") for p in pools):
        fail(_no_shutdown(result, student.path, pools))
    require_clean_exit(result, "parallel_map")

    why = ["a single item", "more processes than items", "no items"]
    cases = [(task("pause_square"), [6], 2), (task("pause_square"), [3, -1, 2], 4), (task("pause_square"), [], 2)]
    edge, outcomes = _edge_cases(student, "parallel_map", cases, why)
    _judge_values("parallel_map", cases, why, outcomes, [[x * x for x in c[1]] for c in cases],
                  "Return pool.map(func, items), whatever the number of items.")
    runs = task_records(edge, "pause_square")
    in_caller = [r for r in runs if r["pid"] == edge.runner_pid]
    check(not in_caller,
          f"On its edge cases ({'; '.join(why)}) parallel_map ran {len(in_caller)} of its {len(runs)} tasks in the "
          "calling process itself, not in worker processes. Hand every item to pool.map, however few there are.")
    require_clean_exit(edge, "parallel_map (on its edge cases: " + "; ".join(why) + ")")


# --- primes_in_ranges --------------------------------------------------------------------------------------------

PRIMES_EDGES_WHY = ["a single limit", "more processes than limits", "5 limits for 2 processes", "no limits"]


@pytest.mark.points(2)
def test_primes_in_ranges_counts_in_worker_processes(student, rng):
    """primes_in_ranges counts correctly, and the counting runs in worker processes (also for one limit, more
    processes than limits, 5 limits for 2 processes, and none)"""
    limits = [rng.randrange(150_000, 300_000) for _ in range(6)]
    result = student.call("primes_in_ranges", limits, 2, timeout=60)
    expected = [count_primes_below(limit) for limit in limits]
    check(result.value == expected,
          f"primes_in_ranges({limits}, 2) returned {short(result.value)}; expected {expected}.")
    require_work_in_children(result, "primes_in_ranges")
    require_clean_exit(_without_parallel_maps_pool(student.path, result), "primes_in_ranges")

    cases = [([2_000], 2), ([10, 3_000, 2], 4), ([1_000, 2_000, 3_000, 4_000, 5_000], 2), ([], 2)]
    edge, outcomes = _edge_cases(student, "primes_in_ranges", cases, PRIMES_EDGES_WHY, timeout=60)
    _judge_values("primes_in_ranges", cases, PRIMES_EDGES_WHY, outcomes,
                  [[count_primes_below(limit) for limit in c[0]] for c in cases],
                  "Return count_primes(limit) for every limit, in order, however many limits there are and "
                  "however they divide among the processes (when you split them into chunks, the last chunk "
                  "takes the remainder).")
    require_clean_exit(_without_parallel_maps_pool(student.path, edge),
                       "primes_in_ranges (on its edge cases: " + "; ".join(PRIMES_EDGES_WHY) + ")")


def _without_parallel_maps_pool(path: Path, result):
    """``result`` without the Pool workers still running, when the only Pools primes_in_ranges leaves open are
    parallel_map's: test_parallel_map_uses_pool_worker_processes deducts for that mistake (one mistake, one
    deduction; whether a Pool nobody closed still runs when the call returns is a matter of timing)."""
    open_pools = {p.line for p in pools_in_source(path, "primes_in_ranges") if p.how not in ("with", "finally")}
    if not open_pools or not open_pools <= {p.line for p in pools_in_source(path, "parallel_map")}:
        return result
    # A worker the Pool was still starting when the call returned has not announced itself yet: "unannounced".
    kept = [p for p in result.processes if not (p.get("alive_at_end") and p.get("role") in ("pool", "unannounced"))]
    return dataclasses.replace(result, processes=kept)


# --- async_squares -----------------------------------------------------------------------------------------------

ASYNC_EDGES_WHY = [f"{len(SLOW_NUMBERS)} numbers whose squares take {SLOW_SQUARE_S:g} s each", "a single number",
                   "more processes than numbers", "no numbers"]


def _overlap(runs: list[dict]) -> bool:
    """Whether two of the witnessed runs were under way at the same time (the witness's own clock)."""
    latest_end = None
    for run in sorted(runs, key=lambda r: r["start"]):
        if latest_end is not None and run["start"] < latest_end:
            return True
        latest_end = run["end"] if latest_end is None else max(latest_end, run["end"])
    return False


def _one_at_a_time(result, path: Path, runs: list[dict]) -> str:
    """Feedback for squares computed one after another although async_squares had 2 processes."""
    runs = sorted(runs, key=lambda r: r["start"])
    starts = ", ".join(f"{r['start'] - runs[0]['start']:.2f}" for r in runs)
    pids = {r["pid"] for r in runs}
    first, last = runs[0]["start"], max(r["end"] for r in runs)
    workers = len([p for p in started_processes(result, "pool", "unannounced")
                   if p["start"] <= last and p["last_seen"] >= first])
    text = (f"async_squares({list(SLOW_NUMBERS)}, 2), where each square takes {SLOW_SQUARE_S:g} s, computed them "
            f"one at a time: none started before the previous one had ended (they started at {starts} s)")
    chained = _get_chained_on_apply_async(path)
    if len(pids) == 1 and workers < 2:
        return (text + f", all in one worker process: its Pool had {workers} worker process(es). Create the Pool "
                "with the processes argument (multiprocessing.Pool(processes)), submit every number with "
                "apply_async first, then call .get() on each result.")
    text += f", in {len(pids)} worker processes taking turns"
    if chained:
        return (text + f". {path.name}:{chained} calls .get() right on apply_async(...): it waits for each result "
                "before the next number is submitted, so only one worker is ever busy. Submit every number first "
                "(pending = [pool.apply_async(square, (n,)) for n in numbers]), then call .get() on each.")
    return (text + ": each result was awaited before the next number was submitted. Submit every number first "
            "(pending = [pool.apply_async(square, (n,)) for n in numbers]), then call .get() on each.")


@pytest.mark.points(2)
def test_async_squares_uses_apply_async(student, rng):
    """async_squares submits every number with apply_async before awaiting any result, so the squares are
    computed at the same time in worker processes, and returns them in order (also for one number, more
    processes than numbers, and none)"""
    numbers = [rng.randrange(-500, 500) for _ in range(rng.randrange(5, 10))]
    result = student.call("async_squares", numbers, 2)
    expected = [n * n for n in numbers]
    check(result.value == expected,
          f"async_squares({short(numbers)}, 2) returned {short(result.value)}; expected {short(expected)}.")
    require_clean_exit(result, "async_squares")

    cases = [(task("slow_numbers"), 2), ([-7], 2), ([3, -4], 4), ([], 2)]
    edge, outcomes = _edge_cases(student, "async_squares", cases, ASYNC_EDGES_WHY, timeout=30)
    shown = [(list(SLOW_NUMBERS), 2), *cases[1:]]
    _judge_values("async_squares", shown, ASYNC_EDGES_WHY, outcomes, [[n * n for n in c[0]] for c in shown],
                  "Return the square of every number, in order ([] for none).")

    if _reachable(student.path, "async_squares") and not uses_in_source(student.path, "async_squares", "apply_async"):
        instead = [(api, calls(result, api)) for api in ("Pool.apply", "Pool.map", "Pool.map_async", "Pool.starmap",
                                                          "Pool.imap")]
        instead = [(api, n) for api, n in instead if n]
        why = ""
        if instead and instead[0][0] == "Pool.apply":
            why = (f" It calls pool.apply {instead[0][1]} time(s) instead: apply waits for each result before the "
                   "next number is submitted, so only one worker is ever busy.")
        elif instead:
            why = f" It uses {instead[0][0].replace('Pool.', 'pool.')} instead."
        fail(f"async_squares never uses pool.apply_async (the file shows none in it or in the functions it calls), "
             f"which this exercise is about.{why} Submit square(n) for each number with apply_async first, then "
             "call .get() on each result.")

    runs = task_records(edge, "slow_square")
    check(len(runs) == len(SLOW_NUMBERS),
          f"async_squares({list(SLOW_NUMBERS)}, 2) returned the right squares, but the kit saw {len(runs)} of "
          f"{len(SLOW_NUMBERS)} of them computed by square(n) (n * n). Hand each number to the given "
          "square function with pool.apply_async(square, (n,)).")
    in_caller = [r for r in runs if r["pid"] == edge.runner_pid]
    if in_caller and len(in_caller) == len(runs):
        fail(_threads_instead(edge, f"async_squares({list(SLOW_NUMBERS)}, 2)", len(runs)))
    check(not in_caller,
          f"async_squares({list(SLOW_NUMBERS)}, 2) computed {len(in_caller)} of its {len(runs)} squares in the calling "
          "process itself. Submit every number to the Pool with apply_async, so its worker processes compute them.")
    if not _overlap(runs) and len({r["pid"] for r in runs}) < 2:
        # One worker did every square: a second one may not have been ready yet (a loaded machine): look again.
        again = student.call("async_squares", task("slow_numbers"), 2, timeout=30)
        if again.value == [n * n for n in SLOW_NUMBERS]:
            edge, runs = again, task_records(again, "slow_square")
    if not _overlap(runs):
        fail(_one_at_a_time(edge, student.path, runs))
    require_clean_exit(edge, "async_squares (on its edge cases: " + "; ".join(ASYNC_EDGES_WHY) + ")")


# --- speedup -----------------------------------------------------------------------------------------------------

@pytest.mark.points(2)
def test_primes_in_ranges_speedup(student, check_details, grading_settings):
    """primes_in_ranges is faster than counting one range after another, as fast as this machine allows"""
    # Up to 4 processes: on a bigger machine several students' measurements run side by side on CPUs of
    # their own (cpulock), and 4 show a speedup as clearly as 64 would.
    processes = max(2, min(4, usable_cpus()))
    # Fixed work (correctness is checked on random inputs elsewhere): one calibration serves every student.
    limits = [SPEEDUP_LIMIT - 7_000 * (i % 4) for i in range(4 * processes)]
    expected = [count_primes_below(limit) for limit in limits]
    check_speedup(student, check_details, grading_settings.speedup_policy, "primes_in_ranges",
                  (limits, processes), "count_primes", limits, processes, expected)
