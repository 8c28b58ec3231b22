"""The pytest plugin (``pytest11`` entry point ``mpgrade``); trusted side.

Registers the options (see :mod:`mpgrade.settings`), the ``points`` and
``exercise`` markers and the ``student``/``rng`` fixtures. It acts only on
grader checks: tests in a module named ``test_exNN_*.py`` or marked with
``exercise``. For each check it makes one record (status, score, feedback)
that travels with the test report (``user_properties``, so it crosses
pytest-xdist); on the controller, :mod:`mpgrade.grading.plugin_report` prints the
points per exercise and, with ``--mpgrade-report``, writes report v1 through
pytest-json-report's ``pytest_json_modifyreport`` hook. A grader module that
declares its exercise (``EXERCISE``) also gets the guard check it implies
and a points check at collection.
"""
from __future__ import annotations

import random
import re
from dataclasses import replace
from typing import Any

import pytest

from mpgrade.grading.plugin_report import RECORD_KEY, Collector, ReportWriter
from mpgrade.outcomes import CheckFailed
from mpgrade.settings import ALL_METHODS, SETTINGS, START_METHODS, GradingSettings, SettingError, resolve
from mpgrade.grading.student import Student
from mpgrade.verdicts import causes

DEFAULT_POINTS = 1.0
_SETTINGS = pytest.StashKey[GradingSettings]()
_DETAILS = pytest.StashKey[dict]()
_GRADER_FILE = re.compile(r"test_(ex\d+\w*)\.py$")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mpgrade", "mpgrade: grading multiprocessing exercises")
    for setting in SETTINGS:
        group.addoption(setting.option, dest=f"mpgrade_{setting.name}", default=None,
                        help=f"{setting.help} (env {setting.env})")
        parser.addini(f"mpgrade_{setting.name}", setting.help, default=None)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "points(n): how many points a grader check is worth")
    config.addinivalue_line("markers", "exercise(name): the exercise a grader module checks")
    config.addinivalue_line("markers", "hidden: a check students do not see before grades are published")
    try:
        settings = resolve(lambda name: config.getoption(f"mpgrade_{name}"),
                           lambda name: config.getini(f"mpgrade_{name}"))
    except SettingError as exc:
        raise pytest.UsageError(str(exc)) from None
    workerinput = getattr(config, "workerinput", None)
    if settings.require_confinement and workerinput is None:
        from mpgrade.sandbox.confinement import describe, refusal

        problem = refusal(describe(settings.namespaces, settings.landlock))
        if problem:
            raise pytest.UsageError(problem)
    if workerinput is None:
        from mpgrade.grading.command import follow_grading_parent

        follow_grading_parent()
    seed = settings.seed
    if workerinput is not None and "mpgrade_seed" in workerinput:
        seed = workerinput["mpgrade_seed"]
    elif seed is None:
        seed = random.SystemRandom().randrange(2**31)
    config.stash[_SETTINGS] = replace(settings, seed=seed)
    if workerinput is None:
        config.pluginmanager.register(Collector(config.stash[_SETTINGS]), "mpgrade-collector")
    if settings.report is not None and workerinput is None:
        if not config.getoption("json_report", False):
            config.option.json_report = True
            config.option.json_report_file = None  # ours is the report asked for
        config.pluginmanager.register(ReportWriter(config.stash[_SETTINGS]), "mpgrade-report-writer")


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """pytest-xdist: every worker grades with the controller's seed."""
    node.workerinput["mpgrade_seed"] = node.config.stash[_SETTINGS].seed


def grading_settings_of(config: pytest.Config) -> GradingSettings:
    """The resolved settings of this pytest run."""
    return config.stash[_SETTINGS]


def exercise_of(item: pytest.Item) -> str | None:
    """The exercise a test grades, or None for a test that is not a grader check."""
    marker = item.get_closest_marker("exercise")
    if marker is not None and marker.args:
        return str(marker.args[0])
    match = _GRADER_FILE.search(item.path.name)
    if match is None:
        return None
    hidden = item.path.parent.name == "hidden" and match.group(1).endswith("_hidden")
    return match.group(1).removesuffix("_hidden") if hidden else match.group(1)


def _points(item: pytest.Item) -> float:
    marker = item.get_closest_marker("points")
    if marker is None or not marker.args:
        return DEFAULT_POINTS
    return float(marker.args[0])


def _check_name(item: pytest.Item) -> str:
    function = getattr(item, "function", None)
    doc = (getattr(function, "__doc__", None) or "").strip()
    name = doc.splitlines()[0].strip() if doc else item.name
    callspec = getattr(item, "callspec", None)
    if doc and callspec is not None:
        name += f" [{callspec.id}]"
    return name


def _record(item: pytest.Item, report: pytest.TestReport, call: pytest.CallInfo) -> dict[str, Any] | None:
    exercise = exercise_of(item)
    if exercise is None:
        return None
    points = _points(item)
    record: dict[str, Any] = {
        "exercise": exercise, "name": _check_name(item), "id": item.nodeid,
        "max_score": points, "score": 0.0, "feedback": "", "duration_s": report.duration,
    }
    if item.get_closest_marker("hidden") is not None:
        record["hidden"] = True
    excinfo = call.excinfo
    if report.skipped:
        record["status"] = "skipped"
        longrepr = report.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)
        record["feedback"] = reason.removeprefix("Skipped: ")
    elif report.passed:
        record.update(status="passed", score=points)
    elif excinfo is not None and isinstance(excinfo.value, CheckFailed):
        failure = excinfo.value
        score = points * failure.fraction if failure.fraction is not None else float(failure.score)
        record.update(status=failure.status, feedback=failure.feedback, score=max(0.0, min(points, score)))
        if failure.status == "failed":
            record["cause"] = causes.of(failure)
        report.longrepr = failure.feedback  # the student sees the feedback, not the grader's traceback
    else:
        record.update(status="error", feedback=(
            "The grader itself failed while checking this; this is not a problem with your code. "
            "Run the check again, and tell your instructor if it keeps happening."))
    details = dict(item.stash.get(_DETAILS, {}))
    student = getattr(item, "funcargs", {}).get("student")
    if isinstance(student, Student):
        student.add_timeline(details)
    note = details.pop("note", "")
    if note and record["status"] == "passed":
        record["feedback"] = note
    if details:
        record["details"] = details
    return record


def main_guard_check(student, check_details) -> None:
    """safe under spawn and forkserver: importing runs nothing, and the script runs to the end (or fails only
    inside a function the exercise's own checks grade)"""
    from mpgrade.verdicts.guard import check_guard

    check_guard(student, details=check_details)


def _declared_checks(module: pytest.Module, collected: list) -> list:
    """The module's checks plus the ones its ``EXERCISE`` declaration implies; a points mismatch fails collection.

    Only grader modules that declare an exercise are touched (a plain test module named test_ex* is not).
    """
    from mpgrade.course.curriculum import Exercise, is_hidden, points_problem, read_declaration

    declaration = getattr(module.obj, "EXERCISE", None)
    hidden = is_hidden(module.path)
    if hidden and declaration is None:
        exercise = exercise_of(module) or ""
        visible = module.path.parent.parent / f"test_{exercise}.py"
        declaration = read_declaration(visible) if visible.is_file() else None
    if not isinstance(declaration, Exercise):
        return collected
    items = list(collected)
    if declaration.guard_points and not hidden:
        guard = pytest.Function.from_parent(module, name="test_main_guard", callobj=main_guard_check)
        guard.add_marker(pytest.mark.points(declaration.guard_points))
        items.append(guard)
    worth = sum(_points(i) for i in items if isinstance(i, pytest.Item))
    if not hidden:
        worth -= declaration.guard_points
    problem = points_problem(module.path.name, declaration, worth, hidden)
    if problem:
        raise module.CollectError(problem)  # shown as the message alone, under "ERROR collecting <grader>"
    return items


@pytest.hookimpl(hookwrapper=True)
def pytest_pycollect_makemodule(module_path, parent):
    """Grader modules get their declared checks (the guard) and a points check at collection."""
    outcome = yield
    module = outcome.get_result()
    if isinstance(module, pytest.Module) and _GRADER_FILE.search(module_path.name):
        original = module.collect
        module.collect = lambda: _declared_checks(module, original())


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """With ``--start-method all``, run a grader check once per start method; it passes only if all pass."""
    settings = pyfuncitem.config.stash[_SETTINGS]
    exercise = exercise_of(pyfuncitem)
    if settings.start_method != ALL_METHODS or exercise is None:
        return None
    names = pyfuncitem._fixtureinfo.argnames
    failures: dict[str, CheckFailed] = {}
    for method in START_METHODS:
        arguments = {name: pyfuncitem.funcargs[name] for name in names}
        if "student" in arguments:
            arguments["student"] = Student(replace(settings, start_method=method), exercise)
        if "rng" in arguments:  # the same inputs under every start method
            arguments["rng"] = random.Random(f"{settings.seed}:{pyfuncitem.nodeid}")
        try:
            pyfuncitem.obj(**arguments)
        except CheckFailed as failure:
            failures[method] = failure
    if not failures:
        return True
    method, failure = next((m, failures[m]) for m in ("spawn", "forkserver", "fork") if m in failures)
    if "fork" not in failures:
        prefix = f"Works on Linux with fork, fails with {method}: "
    else:
        prefix = f"Fails with {', '.join(m for m in START_METHODS if m in failures)}: "
    raise type(failure)(prefix + failure.feedback, score=min(f.score for f in failures.values()))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    if report.when == "call" or (report.when == "setup" and not report.passed):
        record = _record(item, report, call)
        if record is not None:
            item.user_properties.append((RECORD_KEY, record))
            report.user_properties.append((RECORD_KEY, record))
    return report


@pytest.fixture
def grading_settings(request: pytest.FixtureRequest) -> GradingSettings:
    """The resolved grading settings (submission, start method, seed, ...)."""
    return request.config.stash[_SETTINGS]


@pytest.fixture
def student(request: pytest.FixtureRequest) -> Student:
    """The student's module for this grader's exercise, called only through a sandbox."""
    exercise = exercise_of(request.node)
    if exercise is None:
        raise pytest.UsageError(f"{request.node.nodeid}: the student fixture needs an exercise "
                                "(name the module test_exNN_name.py or mark it with pytest.mark.exercise)")
    return Student(request.config.stash[_SETTINGS], exercise)


@pytest.fixture
def check_details(request: pytest.FixtureRequest) -> dict:
    """Figures a check wants in its report entry (``details``); a ``note`` becomes a passed check's feedback."""
    details: dict = {}
    request.node.stash[_DETAILS] = details
    return details


@pytest.fixture
def rng(request: pytest.FixtureRequest) -> random.Random:
    """Random inputs for this check, reproducible from the session's reported seed."""
    seed = request.config.stash[_SETTINGS].seed
    return random.Random(f"{seed}:{request.node.nodeid}")
