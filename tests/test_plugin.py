"""The pytest plugin, run the way users run it (pytester, in subprocesses)."""
from __future__ import annotations

import json

import jsonschema
import pytest

from conftest import KIT_ROOT
from mpgrade.grading.report import SCHEMA_FILE
from mpgrade.settings import platform_start_method

GRADER = """
import pytest
from mpgrade import check, fail, partial

@pytest.mark.points(3)
def test_passes():
    '''a check that passes'''

@pytest.mark.points(2)
def test_fails():
    '''a check that fails'''
    fail("counter.value is 7, expected 10: add a lock around the update")

@pytest.mark.points(4)
def test_partial():
    partial(1.5, "two of the three workers ran")

@pytest.mark.points(5)
def test_skipped():
    pytest.skip("nothing to measure on one core")

@pytest.mark.points(1)
def test_grader_bug():
    {}["missing"]

def test_default_points(rng):
    check(0 <= rng.random() < 1, "never shown")
"""


def _report(pytester: pytest.Pytester, name: str = "report.json") -> dict:
    return json.loads((pytester.path / name).read_text())


def _validate(report: dict) -> None:
    jsonschema.validate(report, json.loads(SCHEMA_FILE.read_text()))


def test_points_partial_credit_skips_and_errors_reach_the_report(pytester):
    pytester.makepyfile(test_ex07_demo=GRADER)
    result = pytester.runpytest_subprocess("--mpgrade-report", "report.json", "--mpgrade-seed", "5")
    result.assert_outcomes(passed=2, failed=3, skipped=1)
    report = _report(pytester)
    _validate(report)
    exercise = report["exercises"]["ex07_demo"]
    by_id = {c["id"].split("::")[1]: c for c in exercise["checks"]}
    assert by_id["test_passes"] == {**by_id["test_passes"], "status": "passed", "score": 3, "max_score": 3,
                                    "name": "a check that passes"}
    assert by_id["test_fails"]["status"] == "failed" and by_id["test_fails"]["score"] == 0
    assert "add a lock" in by_id["test_fails"]["feedback"]
    assert by_id["test_partial"]["score"] == 1.5 and by_id["test_partial"]["status"] == "failed"
    assert by_id["test_skipped"]["status"] == "skipped"
    assert by_id["test_skipped"]["feedback"] == "nothing to measure on one core"
    assert by_id["test_grader_bug"]["status"] == "error"
    assert "not a problem with your code" in by_id["test_grader_bug"]["feedback"]
    assert by_id["test_default_points"]["max_score"] == 1
    # Skipped checks count in neither score nor max_score.
    assert (exercise["score"], exercise["max_score"]) == (5.5, 11)
    assert (report["score"], report["max_score"]) == (5.5, 11)
    assert report["environment"]["seed"] == 5
    assert report["environment"]["start_method"] == platform_start_method()


def test_a_failed_check_shows_its_feedback_not_a_traceback(pytester):
    pytester.makepyfile(test_ex07_demo=GRADER)
    result = pytester.runpytest_subprocess("-k", "test_fails")
    result.stdout.fnmatch_lines(["*counter.value is 7, expected 10: add a lock around the update*",
                                 "*mpgrade points*", "ex07_demo*0/2*"])
    result.stdout.no_fnmatch_line("*def test_fails*")
    result.stdout.no_fnmatch_line("*CheckFailed*")


def test_pytest_xdist_gives_the_same_report(pytester):
    pytester.makepyfile(test_ex07_demo=GRADER)
    pytester.runpytest_subprocess("--mpgrade-report", "serial.json", "--mpgrade-seed", "11")
    result = pytester.runpytest_subprocess("-n", "2", "--mpgrade-report", "parallel.json", "--mpgrade-seed", "11")
    result.assert_outcomes(passed=2, failed=3, skipped=1)

    def scores(report):
        return {c["id"]: (c["status"], c["score"], c["max_score"], c["feedback"])
                for e in report["exercises"].values() for c in e["checks"]}

    serial, parallel = _report(pytester, "serial.json"), _report(pytester, "parallel.json")
    _validate(parallel)
    assert scores(serial) == scores(parallel)
    assert (serial["score"], serial["max_score"]) == (parallel["score"], parallel["max_score"])


def test_inputs_are_reproducible_from_the_reported_seed(pytester):
    pytester.makepyfile(test_ex03_seeded="""
        from mpgrade import fail
        def test_draw(rng):
            fail(f"drew {rng.random()!r}")
    """)
    pytester.runpytest_subprocess("--mpgrade-report", "a.json")
    first = _report(pytester, "a.json")
    seed = str(first["environment"]["seed"])
    pytester.runpytest_subprocess("--mpgrade-report", "b.json", "--mpgrade-seed", seed)
    pytester.runpytest_subprocess("-n", "2", "--mpgrade-report", "c.json", "--mpgrade-seed", seed)
    feedback = [_report(pytester, n)["exercises"]["ex03_seeded"]["checks"][0]["feedback"]
                for n in ("a.json", "b.json", "c.json")]
    assert feedback[0] == feedback[1] == feedback[2]


@pytest.mark.parametrize("where, args", [
    ("environment", []),
    ("option", ["--start-method", "bogus"]),
])
def test_a_bad_setting_names_its_value_and_source(pytester, monkeypatch, where, args):
    if where == "environment":
        monkeypatch.setenv("MPGRADE_START_METHOD", "bogus")
    pytester.makepyfile(test_ex01_x="def test_x(): pass")
    result = pytester.runpytest_subprocess(*args)
    source = "MPGRADE_START_METHOD environment variable" if where == "environment" else "--start-method option"
    result.stderr.fnmatch_lines([f"*Invalid start method 'bogus' from {source}: choose one of fork, spawn, forkserver*"])
    assert result.ret == pytest.ExitCode.USAGE_ERROR


def test_tests_that_are_not_graders_are_left_alone(pytester):
    pytester.makepyfile(test_plain="def test_plain():\n    assert 1 == 2\n")
    result = pytester.runpytest_subprocess("--mpgrade-report", "report.json")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*assert 1 == 2*"])
    result.stdout.no_fnmatch_line("*mpgrade points*")
    assert _report(pytester)["exercises"] == {}


def test_the_grading_process_never_imports_student_code(pytester):
    """Graders call the student module through the sandbox only."""
    pytester.makeconftest("""
        import json, sys
        def pytest_sessionfinish(session):
            with open("modules.json", "w") as handle:
                json.dump(sorted(sys.modules), handle)
    """)
    pytester.makepyfile(test_ex01_processes="""
        import pytest
        from mpgrade import check, task

        @pytest.mark.points(1)
        def test_codes(student):
            check(student.call("run_in_processes", task("exit_after"), [(4,)]).value == [4], "wrong")
    """)
    result = pytester.runpytest_subprocess("--submission", str(KIT_ROOT / "solutions"))
    result.assert_outcomes(passed=1)
    modules = json.loads((pytester.path / "modules.json").read_text())
    assert "ex01_processes" not in modules
    assert not any(name.startswith("exercises") or name.startswith("solutions") for name in modules)


def test_one_exercise_failing_to_import_does_not_stop_the_others(pytester, tmp_path):
    submission = tmp_path / "sub"
    submission.mkdir()
    (submission / "ex01_broken.py").write_text("def f(:\n    pass\n")
    (submission / "ex02_fine.py").write_text("def f():\n    return 2\n")
    for name in ("ex01_broken", "ex02_fine"):
        pytester.makepyfile(**{f"test_{name}": """
            import pytest
            from mpgrade import check

            @pytest.mark.points(2)
            def test_one(student):
                check(student.call("f").value == 2, "f() should return 2")

            @pytest.mark.points(3)
            def test_two(student):
                check(student.call("f").value == 2, "f() should return 2")
        """})
    result = pytester.runpytest_subprocess("--submission", str(submission), "--mpgrade-report", "report.json")
    result.assert_outcomes(passed=2, failed=2)
    report = _report(pytester)
    assert report["exercises"]["ex02_fine"]["score"] == 5
    broken = report["exercises"]["ex01_broken"]
    assert broken["score"] == 0
    assert all("ex01_broken.py could not be imported: SyntaxError" in c["feedback"] for c in broken["checks"])
