"""The plugin's controller half: check records in, the points summary and report v1 out (trusted side).

Runs in the pytest process that owns the session (the controller under
pytest-xdist, where workers' records arrive inside their test reports'
``user_properties``); :mod:`mpgrade.grading.plugin` makes the records on whichever
process ran the check and registers these two objects on the controller.
"""
from __future__ import annotations

from typing import Any

import pytest

from mpgrade.grading import report
from mpgrade.sandbox import machine
from mpgrade.settings import GradingSettings

RECORD_KEY = "mpgrade"


def records_of(user_properties: Any) -> list[dict[str, Any]]:
    found = []
    for prop in user_properties or ():
        if isinstance(prop, dict):
            found.extend(v for k, v in prop.items() if k == RECORD_KEY)
        elif isinstance(prop, (tuple, list)) and len(prop) == 2 and prop[0] == RECORD_KEY:
            found.append(prop[1])
    return found


def environment(settings: GradingSettings) -> dict[str, Any]:
    """The ``environment`` section of report v1 for this pytest run."""
    from mpgrade.grading.provenance import graders_digest, kit_version

    env = machine.environment()
    env.update(start_method=settings.start_method, seed=settings.seed, timeout_factor=settings.timeout_factor,
               speedup_policy=settings.speedup_policy, mpgrade=kit_version(), graders=graders_digest(),
               limits={"max_processes": settings.max_processes, "max_memory_mb": settings.max_memory_mb,
                       "max_address_space_mb": settings.max_address_space_mb, "max_file_mb": settings.max_file_mb,
                       "max_written_mb": settings.max_written_mb})
    from mpgrade.sandbox.confinement import describe

    sandbox = describe(settings.namespaces, settings.landlock)
    env["sandbox"] = sandbox["note"]
    env["confinement"] = sandbox["levels"]
    return env


class ReportWriter:
    """Writes report v1 from pytest-json-report's collected tests (controller only)."""

    def __init__(self, settings: GradingSettings) -> None:
        self.settings = settings

    @pytest.hookimpl(optionalhook=True)
    def pytest_json_modifyreport(self, json_report: dict[str, Any]) -> None:
        settings = self.settings
        records = [r for test in json_report.get("tests", []) for r in records_of(test.get("user_properties"))]
        built = report.build(records, str(settings.submission), environment(settings))
        report.write(built, settings.report)
        json_report["mpgrade"] = {"report": str(settings.report), "score": built["score"],
                                  "max_score": built["max_score"]}


class Collector:
    """Gathers check records as reports arrive (on the controller under xdist) for the summary."""

    def __init__(self, settings: GradingSettings) -> None:
        self.settings = settings
        self.records: dict[str, dict[str, Any]] = {}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        records = records_of(report.user_properties)
        if records and report.when in ("setup", "call"):
            self.records.setdefault(report.nodeid, records[-1])

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not self.records:
            return
        from mpgrade.grading.console import exercise_totals

        settings = self.settings
        built = report.build(self.records.values(), str(settings.submission), {})
        terminalreporter.write_sep("=", "mpgrade points")
        for line in exercise_totals(built):
            terminalreporter.write_line(line)
        terminalreporter.write_line(f"submission: {settings.submission}   start method: "
                                    f"{settings.start_method}   seed: {settings.seed}")
        if settings.report is not None:
            terminalreporter.write_line(f"report: {settings.report}")

