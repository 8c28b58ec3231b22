"""The __main__ guard checks and the start-method matrix."""
from __future__ import annotations

import json
import sys
import time

import pytest

from conftest import SUBMISSIONS
from mpgrade.verdicts.guard import _script_problem, check_dynamic, check_static, static_findings
from mpgrade.outcomes import CheckFailed
from mpgrade.settings import GradingSettings
from mpgrade.grading.student import Student

GUARD = SUBMISSIONS / "guard"


def student(variant: str, start_method: str = "spawn") -> Student:
    return Student(GradingSettings((GUARD / variant).resolve(), start_method, 1.0, 0, None), "demo")


STATIC = {
    "no_guard_process": [(8, True), (9, True), (10, False)],
    "no_guard_pool": [(8, True)],
    "no_guard_executor": [(8, True)],
    "guard_plus_main_call": [(13, True)],
    "lambda_to_pool": [],
    "local_function_to_process": [],
    "correct": [],
}


@pytest.mark.parametrize("variant", sorted(STATIC))
def test_static_check_reports_each_top_level_statement_that_runs(variant):
    found = [(f.line, f.starts_work) for f in static_findings(GUARD / variant / "demo.py")]
    assert found == STATIC[variant]
    if found:
        with pytest.raises(CheckFailed, match=rf"demo.py:{found[0][0]}: .*\nThis line .* when the module is imported"):
            check_static(GUARD / variant / "demo.py")
    else:
        check_static(GUARD / variant / "demo.py")


DYNAMIC = {
    # variant: words the dynamic feedback must contain
    "no_guard_process": ["as __mp_main__", "demo.py:9: process.start()"],
    "no_guard_pool": ["as __mp_main__", "demo.py:8: with multiprocessing.Pool(2) as pool:"],
    "no_guard_executor": ["as __mp_main__", "demo.py:8: with ProcessPoolExecutor(2) as executor:"],
    "guard_plus_main_call": ["as __mp_main__", "demo.py:13: main()"],
    "lambda_to_pool": ["Can't pickle", "no lambda", "demo.py:6"],
    "local_function_to_process": ["Can't pickle", "defined at the top level", "demo.py:9: process.start()"],
}


@pytest.mark.parametrize("start_method", ["spawn", "forkserver"])
@pytest.mark.parametrize("variant", sorted(DYNAMIC) + ["correct"])
def test_dynamic_check(variant, start_method, leftovers):
    if variant == "correct":
        check_dynamic(student(variant, start_method), timeout=20)
    else:
        with pytest.raises(CheckFailed) as failure:
            check_dynamic(student(variant, start_method), timeout=20)
        for words in DYNAMIC[variant]:
            assert words in failure.value.feedback, failure.value.feedback
    assert leftovers() == []


SCRIPT = {
    "no_guard_process": "bootstrapping phase",
    "no_guard_executor": "bootstrapping phase",
    "lambda_to_pool": "no lambda",
    "local_function_to_process": "defined at the top level",
}


@pytest.mark.parametrize("start_method", ["spawn", "forkserver"])
@pytest.mark.parametrize("variant", sorted(SCRIPT))
def test_running_as_a_script_fails_under_spawn_and_forkserver(variant, start_method, leftovers):
    assert SCRIPT[variant] in _script_problem(student(variant), start_method, timeout=20)[0]
    assert leftovers() == []


@pytest.mark.parametrize("variant", ["local_function_to_process", "lambda_to_pool"])
def test_fork_hides_what_spawn_reveals(variant):
    problem, _ = _script_problem(student(variant), "fork", timeout=20)
    if variant == "local_function_to_process":
        assert problem == ""  # a local target works under fork: only spawn shows the bug
    else:
        assert "Can't pickle" in problem  # a Pool pickles its tasks under every start method


@pytest.mark.parametrize("start_method", ["spawn", "forkserver"])
def test_a_pool_that_restarts_forever_is_stopped_at_its_first_dead_worker(start_method, leftovers):
    """Not at the script's time limit: the runner ends the call once a worker of its Pool died (poolwatch)."""
    problem, _ = _script_problem(student("no_guard_pool"), start_method, timeout=60)
    assert "did not finish" not in problem, problem
    assert "bootstrapping phase" in problem and "Start processes only from main()" in problem, problem
    assert leftovers() == []


def test_start_method_all_says_what_works_where(pytester):
    """A check that passes under fork and fails under spawn says exactly that."""
    submission = pytester.path / "submission"
    submission.mkdir()
    (submission / "ex01_local.py").write_text(
        "import multiprocessing\n\n"
        "def run():\n"
        "    def work():\n"
        "        pass\n"
        "    p = multiprocessing.Process(target=work)\n"
        "    p.start()\n"
        "    p.join()\n"
        "    return p.exitcode\n")
    pytester.makepyfile(test_ex01_local="""
        import pytest
        from mpgrade import check

        @pytest.mark.points(2)
        def test_runs(student):
            check(student.call("run").value == 0, "the child failed")
    """)
    result = pytester.runpytest_subprocess("--submission", str(submission), "--start-method", "all",
                                           "--mpgrade-report", "report.json")
    result.assert_outcomes(failed=1)
    report = json.loads((pytester.path / "report.json").read_text())
    check = report["exercises"]["ex01_local"]["checks"][0]
    assert check["feedback"].startswith("Works on Linux with fork, fails with spawn: ")
    assert "Can't pickle" in check["feedback"]
    assert report["environment"]["start_method"] == "all"
    passing = pytester.runpytest_subprocess("--submission", str(submission), "--start-method", "fork")
    passing.assert_outcomes(passed=1)


@pytest.mark.parametrize("start_method", ["fork", "spawn", "forkserver"])
def test_a_script_that_sets_its_own_start_method_runs_as_python_would_run_it(start_method, leftovers):
    """The runner makes the tested method the default without fixing it: the docs' set_start_method("spawn")
    under the guard raised "context has already been set" when the runner set it with force=True."""
    details: dict = {}
    check_dynamic(student("docs_set_start_method", start_method), timeout=30, details=details)
    assert details == {}
    assert leftovers() == []


def test_a_script_failing_inside_a_function_costs_that_function_not_the_guard(leftovers):
    """One mistake, one deduction: the error is the function's (its own check grades it), so the guard check
    passes, and says why in a note; a guard mistake still fails it (test_dynamic_check)."""
    details: dict = {}
    check_dynamic(student("function_raises"), timeout=30, details=details)
    assert "IndexError" in details["note"] and "demo.py:12" in details["note"], details
    assert "not a guard problem" in details["note"]
    problem, own = _script_problem(student("function_raises"), "forkserver", timeout=30)
    assert own and "IndexError" in problem
    problem, own = _script_problem(student("local_function_to_process"), "spawn", timeout=30)
    assert problem and not own
    assert leftovers() == []


def test_constants_built_by_calls_that_start_nothing_are_not_work_at_import(tmp_path):
    """The docs' `CTX = get_context(...)` and a CPU-count constant are values; a Lock made at import is not
    the parent's in a spawned child, so it still counts as work at import."""
    module = tmp_path / "demo.py"
    module.write_text('import multiprocessing, os\nLIMITS = [1, 2]\nCTX = multiprocessing.get_context("spawn")\n'
                      "N = min(len(LIMITS), os.cpu_count() or 1)\nLOCK = multiprocessing.Lock()\n"
                      "class _Stop:\n    pass\nSTOP = _Stop()\nclass Worker(multiprocessing.Process):\n    pass\n"
                      "W = Worker()\n", encoding="utf-8")
    assert [f.line for f in static_findings(module)] == [5, 11]  # the Lock, the Process; not the sentinel
