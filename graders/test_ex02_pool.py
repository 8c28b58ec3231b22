"""Grader for exercise 2: Pool map, CPU-bound work in worker processes, apply_async."""
from __future__ import annotations

import pytest

from mpgrade import (
    Exercise, calls, calls_in_source, check, check_speedup, count_primes_below, element_text, fail,
    first_difference, require_clean_exit, require_work_in_children, short, task, usable_cpus, worker_pids,
)

EXERCISE = Exercise(
    title="Pool map, CPU-bound work in worker processes, apply_async",
    points=10,
    you_write="`parallel_map`, `primes_in_ranges`, `async_squares`",
    goals="`Pool` as a context manager; `map` keeps input order; CPU-bound work in processes, not threads; `apply_async` + `.get()`",
)


SPEEDUP_LIMIT = 150_000


def _no_with_block(result, path) -> str:
    """The with-block is missing: what parallel_map does instead (the evidence of close/join/terminate calls)."""
    closed, joined = calls(result, "Pool.close"), calls(result, "Pool.join")
    terminated = calls(result, "Pool.terminate")
    ask = "This exercise asks for the with-block form: `with multiprocessing.Pool(processes) as pool:`."
    if closed and joined:
        in_finally = [c for c in calls_in_source(path, "close") if c.function == "parallel_map" and c.in_finally]
        if in_finally:
            return ("parallel_map shuts its Pool down itself, with close() and join() in a finally block "
                    f"({path.name}:{in_finally[0].line}); that does clean up its workers, even when something "
                    f"fails. {ask} It does the same in one line, and is what the rest of the course uses.")
        return ("parallel_map shuts its Pool down itself with close() and join(), but not in a finally block: "
                "if pool.map raises, those lines are skipped and the workers are left running. " + ask
                + " It shuts the Pool down however the block ends.")
    if terminated:
        return ("parallel_map shuts its Pool down itself with terminate(). " + ask
                + " It does the same, however the block ends.")
    alive = len(result.live_children)
    return ("parallel_map never shuts its Pool down: no with-block, and no close() and join()"
            + (f"; {alive} of its worker processes were still running when it returned" if alive else "")
            + ". Open the Pool in a with-block (`with multiprocessing.Pool(processes) as pool:`), so its "
              "worker processes are stopped when the block ends, even when something fails.")


@pytest.mark.points(1)
def test_parallel_map_keeps_input_order(student, rng):
    """parallel_map returns func(item) for every item, in input order"""
    items = [rng.randrange(-1000, 1000) for _ in range(rng.randrange(8, 15))]
    result = student.call("parallel_map", task("square"), items, 2)
    got = result.value
    expected = [x * x for x in items]
    if got == expected:
        return
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


@pytest.mark.points(2)
def test_parallel_map_uses_pool_worker_processes(student):
    """parallel_map spreads the work over worker processes of a Pool used in a with-block"""
    items = list(range(16))
    result = student.call("parallel_map", task("pause_square"), items, 2)
    check(result.value == [x * x for x in items], f"parallel_map returned {short(result.value)} for {short(items)}.")
    pids = worker_pids(result)
    check(calls(result, "ThreadPool.__init__") == 0,
          "parallel_map uses a ThreadPool: threads share one process. Use multiprocessing.Pool.")
    check(len(pids) >= 2,
          f"16 tasks that each take 0.1 s ran in {len(pids)} worker process(es); with processes=2 "
          "they should spread over 2. Create multiprocessing.Pool(processes) and call pool.map.")
    if calls(result, "Pool.__enter__") < 1:
        fail(_no_with_block(result, student.path))
    require_clean_exit(result, "parallel_map")


@pytest.mark.points(2)
def test_primes_in_ranges_counts_in_worker_processes(student, rng):
    """primes_in_ranges counts correctly, and the counting runs in worker processes"""
    limits = [rng.randrange(150_000, 300_000) for _ in range(6)]
    result = student.call("primes_in_ranges", limits, 2, timeout=60)
    expected = [count_primes_below(limit) for limit in limits]
    check(result.value == expected,
          f"primes_in_ranges({limits}, 2) returned {short(result.value)}; expected {expected}.")
    require_work_in_children(result, "primes_in_ranges")
    require_clean_exit(result, "primes_in_ranges")


@pytest.mark.points(2)
def test_async_squares_uses_apply_async(student, rng):
    """async_squares submits every number with apply_async and collects the results in order"""
    numbers = [rng.randrange(-500, 500) for _ in range(rng.randrange(5, 10))]
    result = student.call("async_squares", numbers, 2)
    expected = [n * n for n in numbers]
    check(result.value == expected,
          f"async_squares({short(numbers)}, 2) returned {short(result.value)}; expected {short(expected)}.")
    used = calls(result, "Pool.apply_async")
    if used < len(numbers):
        instead = [(api, calls(result, api)) for api in ("Pool.apply", "Pool.map", "Pool.map_async", "Pool.starmap",
                                                          "Pool.imap")]
        instead = [(api, n) for api, n in instead if n]
        why = ""
        if instead and instead[0][0] == "Pool.apply":
            why = (f" It calls pool.apply {instead[0][1]} time(s) instead: apply waits for each result before the "
                   "next number is submitted, so only one worker is ever busy.")
        elif instead:
            why = f" It uses {instead[0][0].replace('Pool.', 'pool.')} instead."
        fail(f"async_squares called pool.apply_async {used} time(s) for {len(numbers)} numbers.{why} Submit "
             "square(n) for each number with apply_async first, then call .get() on each result.")
    check(calls(result, "ThreadPool.__init__") == 0,
          "async_squares uses a ThreadPool. Use multiprocessing.Pool so the work runs in processes.")
    require_clean_exit(result, "async_squares")



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
