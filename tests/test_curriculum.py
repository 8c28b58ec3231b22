"""The exercises as declared: solutions score full marks, stubs zero, and known mistakes fail the right checks."""
from __future__ import annotations

from pathlib import Path

import pytest

from conftest import KIT_ROOT, SUBMISSIONS, BackgroundGrading, grade_cli, whole
from mpgrade.course import curriculum

EXERCISES = curriculum.names()
POINTS = curriculum.points_of()
TOTAL = sum(POINTS.values())


grade = grade_cli


def failed_checks(report):
    """Checks that did not pass, by grader file and function (``test_ex01_processes.py::test_...``)."""
    return {c["id"].split("/")[-1]: c for e in report["exercises"].values() for c in e["checks"]
            if c["status"] != "passed"}


def test_every_declared_exercise_has_a_solution_a_stub_and_points():
    assert EXERCISES, "no grader declares an exercise"
    assert sorted(p.stem for p in (KIT_ROOT / "solutions").glob("ex*.py")) == EXERCISES
    assert sorted(p.stem for p in (KIT_ROOT / "exercises").glob("ex*.py")) == EXERCISES
    assert all(points > 0 for points in POINTS.values())


def test_reference_solutions_score_full_marks(tmp_path, leftovers):
    # Under pytest-xdist, as `pytest -n 2 graders/` grades: the speedup check still measures alone.
    completed, report = grade(KIT_ROOT / "solutions", tmp_path, "-n", "2")
    assert completed.returncode == 0, completed.stdout[-3000:]
    assert (report["score"], report["max_score"]) == (TOTAL, TOTAL), failed_checks(report)
    assert {name: e["max_score"] for name, e in report["exercises"].items()} == POINTS
    assert leftovers() == []


def test_untouched_stubs_score_zero_and_every_failure_names_its_todo(tmp_path, leftovers):
    completed, report = grade(KIT_ROOT / "exercises", tmp_path, "-n", "2")
    assert completed.returncode == 1
    assert (report["score"], report["max_score"]) == (0, TOTAL)
    failures = failed_checks(report)
    assert len(failures) == sum(len(e["checks"]) for e in report["exercises"].values())
    for name, check in failures.items():
        assert check["status"] == "failed", (name, check)
        assert "Your TODO there:" in check["feedback"], (name, check["feedback"])
        assert "Traceback" not in check["feedback"]
    assert leftovers() == []


KNOWN_MISTAKES = {
    # folder: {failing check: phrases its feedback must contain}; every other check must pass.
    "ex02_threadpool": {
        "test_parallel_map_uses_pool_worker_processes": ["ThreadPool"],
        "test_primes_in_ranges_counts_in_worker_processes": ["ran in the calling process (or in threads)"],
        "test_async_squares_uses_apply_async": ["ThreadPool"],
        "test_primes_in_ranges_speedup": ["it uses a ThreadPool"],
    },
    "ex02_serial_map": {  # its speedup verdict takes the ThreadPool's path (no child CPU): not measured twice
        "test_parallel_map_uses_pool_worker_processes": ["ran in 0 worker process(es)"],
        "test_primes_in_ranges_counts_in_worker_processes": ["in child processes"],
    },
    "ex03_join_before_drain": {
        "test_large_results_do_not_deadlock": ["a deadlock", "held back until what it put on a queue has been read",
                                               "drain the result queue (get every result) before join()"],
    },
    "ex05_lock_around_read_only": {
        "test_increment_holds_the_lock_for_each_update": [
            "ex05_counter.py:21: counter.value = current + 1", "without holding the counter's lock"],
        "test_parallel_count_loses_no_update": ["ex05_counter.py:21", "(lost updates possible)"],
    },
    "ex06_lock_per_element": {
        "test_bump_all_holds_the_lock_for_each_pass": ["took the lock", "half-updated array"],
    },
    "ex07_no_lock": {
        "test_no_update_is_lost_under_contention": ["ex07_manager.py:20", "(lost updates possible)",
                                                    "manager.Lock()"],
    },
    "ex08_submission_order": {
        "test_pairs_come_in_completion_order": ["as_completed(futures)"],
    },
    "ex08_threads": {
        "test_uses_a_process_pool_executor": ["ThreadPoolExecutor"],
    },
    "ex09_no_unlink": {
        "test_block_is_closed_and_unlinked": ["shared memory block(s) in /dev/shm"],
    },
    "ex10_lambda_left": {
        "test_parallel_counts_works_under_spawn": ["no lambda"],
        "test_runs_as_a_script": ["no lambda"],
        "test_main_guard": ["no lambda"],
    },
    "ex10_guard_but_main_called": {
        "test_top_level_only_defines_things": ["ex10_guard.py:55: main()", "when the module is imported"],
        "test_parallel_counts_works_under_spawn": ["never finished", "a Pool was started while the module was being "
                                                   "imported", "ex10_guard.py:55: main()"],
        "test_runs_as_a_script": ["was stopped", "worker process", "top level"],
        "test_main_guard": ["as __mp_main__", "ex10_guard.py:55: main()"],
    },
}


MAY_ALSO_FAIL = {
    # A race loses updates at random: the plain correctness check may catch it too.
    "ex07_no_lock": {"test_word_counts_are_exact"},
    "ex05_lock_around_read_only": set(),
}


def _grade_mistake(folder: str, scratch: Path, env: dict[str, str]) -> tuple:
    exercise = next(whole(SUBMISSIONS / folder).glob("ex*.py")).stem
    factor = "0.25" if folder == "ex10_guard_but_main_called" else "0.5"
    skip = ["--deselect", "graders/test_ex02_pool.py::test_primes_in_ranges_speedup"] \
        if folder == "ex02_serial_map" else []
    return grade(whole(SUBMISSIONS / folder), scratch, exercise, "--pytest-args", "--mpgrade-timeout-factor", factor, *skip,
                 env=env)


@pytest.fixture(scope="module")
def mistakes_graded(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    graded = BackgroundGrading(request, tmp_path_factory, "test_known_mistakes_fail_exactly_the_right_checks",
                               "folder", _grade_mistake)
    yield graded
    graded.close()


@pytest.mark.parametrize("folder", sorted(KNOWN_MISTAKES))
def test_known_mistakes_fail_exactly_the_right_checks(folder, mistakes_graded):
    expected = KNOWN_MISTAKES[folder]
    completed, report = mistakes_graded.result(folder)
    failures = {name.split("::")[1]: check for name, check in failed_checks(report).items()}
    assert set(expected) <= set(failures) <= set(expected) | MAY_ALSO_FAIL.get(folder, set()), \
        completed.stdout[-4000:]
    for name, phrases in expected.items():
        assert failures[name]["status"] == "failed"
        for phrase in phrases:
            assert phrase in failures[name]["feedback"], (phrase, failures[name]["feedback"])


def test_the_known_mistakes_leave_nothing_behind(mistakes_graded):
    left = mistakes_graded.left_alive()
    assert left == [], [(p.pid, p.cmdline()[:3]) for p in left]
