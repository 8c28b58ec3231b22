"""Grader for exercise 2: Pool map, CPU-bound work in worker processes, apply_async."""
from __future__ import annotations

import pytest

from mpgrade import (
    Exercise, calls, check, check_speedup, count_primes_below, require_clean_exit, require_work_in_children, short,
    task, usable_cpus, worker_pids,
)

EXERCISE = Exercise(
    title="Pool map, CPU-bound work in worker processes, apply_async",
    points=10,
    you_write="`parallel_map`, `primes_in_ranges`, `async_squares`",
    goals="`Pool` as a context manager; `map` keeps input order; CPU-bound work in processes, not threads; `apply_async` + `.get()`",
)


SPEEDUP_LIMIT = 150_000


@pytest.mark.points(1)
def test_parallel_map_keeps_input_order(student, rng):
    """parallel_map returns func(item) for every item, in input order"""
    items = [rng.randrange(-1000, 1000) for _ in range(rng.randrange(8, 15))]
    got = student.call("parallel_map", task("square"), items, 2).value
    expected = [x * x for x in items]
    check(got == expected,
          f"parallel_map(square, {short(items)}, 2) returned {short(got)}; expected {short(expected)}. "
          "pool.map(func, items) returns the results in the order of items.")


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
    check(calls(result, "Pool.__enter__") >= 1,
          "Use the Pool as a context manager (with multiprocessing.Pool(processes) as pool: ...), "
          "so its worker processes are cleaned up even when something fails.")
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
    check(used >= len(numbers),
          f"async_squares called pool.apply_async {used} time(s) for {len(numbers)} numbers. Submit "
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
