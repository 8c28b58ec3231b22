"""Speedup verdicts (pure), and that speedup measurements never overlap other grading work."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from mpgrade.speedup import MAX_ROUNDS, Figures, Rounds, enough_rounds, judge


def figures(serial=2.0, engine=1.1, student=1.15, cpus=2, child_cpu=2.0, started=2) -> Figures:
    return Figures(serial_s=serial, engine_s=engine, student_s=student, engine_speedup=serial / engine,
                   student_speedup=serial / student, usable_cpus=cpus, cpu_budget=float(cpus), processes=2,
                   rounds=3, serial_cpu_s=2.0, student_child_cpu_s=child_cpu, student_processes_started=started)


def test_a_speedup_near_the_engines_gets_full_points():
    verdict = judge(figures(student=1.4))  # 1.43x against the engine's 1.82x: above 75%
    assert verdict.fraction == 1.0 and verdict.measurable
    assert "Speedup 1.43x" in verdict.feedback and "2 usable CPU(s)" in verdict.feedback


def test_partial_points_on_a_linear_scale():
    verdict = judge(figures(student=1.6))  # 1.25x: between 1.1 and 0.75 * 1.82
    assert 0 < verdict.fraction < 1
    assert verdict.fraction == pytest.approx((1.25 - 1.1) / (0.75 * 2.0 / 1.1 - 1.1))
    assert "full points need 1.36x" in verdict.feedback


@pytest.mark.parametrize("student", [2.0, 2.3, 1.85])
def test_no_real_speedup_gets_nothing(student):
    assert judge(figures(student=student)).fraction == 0.0


def test_work_outside_child_processes_gets_nothing_even_if_fast():
    verdict = judge(figures(student=0.5, child_cpu=0.05))
    assert verdict.fraction == 0.0 and "did not run in them" in verdict.feedback


@pytest.mark.parametrize("cpus, engine", [(1, 1.1), (2, 1.9)])
def test_not_measurable_here_follows_the_policy(cpus, engine):
    shown = figures(cpus=cpus, engine=engine)
    assert not shown.measurable
    structural = judge(shown, "structural")
    assert structural.fraction == 1.0 and "not measurable" in structural.feedback
    assert "structural evidence" in structural.feedback
    assert judge(figures(cpus=cpus, engine=engine, child_cpu=0.1), "structural").fraction == 0.0
    assert judge(figures(cpus=cpus, engine=engine, started=1), "structural").fraction == 0.0
    assert judge(shown, "skip").skipped
    failed = judge(shown, "fail")
    assert failed.fraction == 0.0 and "regrade" in failed.feedback


def rounds(*runs) -> Rounds:
    """Rounds from (serial, engine, student[, child_cpu, started]) tuples; serial CPU 2.0 s."""
    measured = Rounds()
    for run in runs:
        serial, engine, student, child_cpu, started = (*run, 2.0, 2)[:5] if len(run) == 3 else run
        measured.serial.append(serial)
        measured.engine.append(engine)
        measured.student.append(student)
        measured.serial_cpu.append(2.0)
        measured.child_cpu.append(child_cpu)
        measured.started.append(started)
    return measured


def test_each_round_alone_is_judged_as_judge_would():
    measured = rounds((2.0, 1.1, 1.15), (2.0, 1.1, 1.6))
    assert judge(measured.figures(2, 2.0, 2, only=0)).fraction == 1.0
    assert judge(measured.figures(2, 2.0, 2, only=1)).fraction == judge(figures(student=1.6)).fraction
    assert measured.figures(2, 2.0, 2).rounds == 2


def test_two_rounds_suffice_when_they_agree_on_the_points():
    assert not enough_rounds(rounds((2.0, 1.1, 1.15)))
    assert enough_rounds(rounds((2.0, 1.1, 1.15), (2.1, 1.2, 1.1)))  # full twice
    assert enough_rounds(rounds((2.0, 1.1, 2.0), (2.1, 1.2, 1.85)))  # no speedup, noise or not
    # A Pool(1) on a busy machine: one round measurable, one not; nothing either way, so no more rounds.
    assert enough_rounds(rounds((2.0, 1.1, 2.0, 2.0, 1), (2.0, 1.6, 1.95, 2.0, 1)))


def test_disagreeing_rounds_get_more_rounds_up_to_the_cap():
    full, noisy = (2.0, 1.1, 1.15), (2.0, 1.1, 1.9)  # a noisy round on a shared machine
    assert not enough_rounds(rounds(full, noisy))
    assert not enough_rounds(rounds(full, full, noisy))
    assert not enough_rounds(rounds((2.0, 1.1, 1.6), (2.0, 1.1, 1.35)))  # partial, and far apart
    assert enough_rounds(rounds(*[full, noisy] * (MAX_ROUNDS // 2), full))


CONFTEST = """
import json, os, time
import pytest
import mpgrade.sandbox.launcher as launcher

LOG = os.environ["WINDOWS_LOG"]
original = launcher._run_in

def logged(workdir, request):
    began = time.time()
    try:
        return original(workdir, request)
    finally:
        with open(LOG, "a") as handle:
            handle.write(json.dumps({"kind": "call", "pid": os.getpid(), "start": began, "end": time.time()}) + "\\n")

launcher._run_in = logged
"""

GRADER_CALLS = """
import pytest
from mpgrade import check

@pytest.mark.parametrize("n", range(8))
def test_busy(student, n):
    check(student.call("nap", 0.25).value == 1, "nap failed")
"""

GRADER_EXCLUSIVE = """
import json, os, time
from mpgrade import check, cpulock

def test_measures_alone(student):
    time.sleep(0.5)  # let the other worker get going
    with cpulock.exclusive():
        began = time.time()
        for _ in range(3):
            check(student.call("nap", 0.2).value == 1, "nap failed")
        ended = time.time()
    with open(os.environ["WINDOWS_LOG"], "a") as handle:
        handle.write(json.dumps({"kind": "exclusive", "pid": os.getpid(), "start": began, "end": ended}) + "\\n")
"""


def test_exclusive_measurements_never_overlap_other_calls_under_xdist(pytester, monkeypatch, tmp_path):
    log = tmp_path / "windows.jsonl"
    monkeypatch.setenv("WINDOWS_LOG", str(log))
    monkeypatch.setenv("MPGRADE_LOCK_DIR", str(tmp_path / "locks"))
    submission = tmp_path / "sub"
    submission.mkdir()
    for name in ("ex01_busy", "ex02_alone"):
        (submission / f"{name}.py").write_text("import time\n\ndef nap(s):\n    time.sleep(s)\n    return 1\n")
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_ex01_busy=GRADER_CALLS, test_ex02_alone=GRADER_EXCLUSIVE)
    result = pytester.runpytest_subprocess("-n", "2", "--dist", "loadfile", "--submission", str(submission))
    result.assert_outcomes(passed=9)
    windows = [json.loads(line) for line in log.read_text().splitlines()]
    exclusive = [w for w in windows if w["kind"] == "exclusive"]
    assert len(exclusive) == 1
    alone = exclusive[0]
    others = [w for w in windows if w["kind"] == "call" and w["pid"] != alone["pid"]]
    assert len(others) == 8
    overlapping = [w for w in others if w["start"] < alone["end"] and w["end"] > alone["start"]]
    assert overlapping == []
    # The busy worker really was running around the exclusive window, so the lock had work to do.
    assert min(w["start"] for w in others) < alone["start"] < max(w["end"] for w in others)


def test_a_patched_clock_earns_no_speedup():
    """One worker, then time.perf_counter patched to claim a quarter of the time: timed from outside, no speedup."""
    from mpgrade.direct import run_check

    cheat = Path(__file__).parent / "submissions" / "speedup" / "clock_patch"
    outcome = run_check("ex02_pool", "test_primes_in_ranges_speedup", cheat, seed=7)
    assert outcome.status == "failed" and outcome.fraction == 0.0, outcome.feedback
    figures = outcome.details["speedup"]
    assert figures["student_speedup"] < 1.3, figures


def test_a_slow_serial_baseline_does_not_credit_a_single_worker():
    """Measured once on a throttled machine: Pool(1) at 1.19x because the serial run came out slow.

    Its worker kept one CPU busy (4.57 s of CPU in 4.59 s), so it is credited 1.0x: no points.
    """
    measured = Figures(serial_s=5.47, engine_s=2.92, student_s=4.59, engine_speedup=5.47 / 2.92,
                       student_speedup=5.47 / 4.59, usable_cpus=2, cpu_budget=2.0, processes=2, rounds=5,
                       serial_cpu_s=5.47, student_child_cpu_s=4.57, student_processes_started=1)
    verdict = judge(measured)
    assert verdict.fraction == 0.0
    assert "kept 1.00 CPUs busy" in verdict.feedback
    assert judge(figures(student=1.15)).fraction == 1.0  # a real Pool(2) keeps ~2 CPUs busy: not capped
