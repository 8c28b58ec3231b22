"""Speedup grading: the pure decision on synthetic pairs, the structure, the lock, and a real cheat."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from mpgrade.verdicts.speedup import Structure, judge
from mpgrade.verdicts.speedup_decision import (
    MAX_PAIRS, PARALLEL, SERIAL, UNDECIDED, Pair, calibrated_speedup, decide, needs_more,
)

SERIAL_S = [2.0, 2.1]  # the work in one process; the engine's Pool(2) takes ~1.1 s: 1.82x


def pairs(*runs: tuple[float, float]) -> list[Pair]:
    return [Pair(engine, student) for engine, student in runs]


def run_sequentially(runs: list[tuple[float, float]], cpus: int = 2, engine_cal_s: float | None = None,
                     certain_mistake: bool = False):
    """Feed pairs one by one as the measurement does; return the final decision and how many pairs it took."""
    taken = []
    at_calibration = calibrated_speedup(SERIAL_S, engine_cal_s, cpus, 2) if engine_cal_s else None
    for run in runs:
        taken.append(Pair(*run))
        decision = decide(SERIAL_S, taken, cpus, 2, engine_cal_s=engine_cal_s)
        if not needs_more(decision, len(taken), certain_mistake, at_calibration):
            break
    return decide(SERIAL_S, taken, cpus, 2, final=True, engine_cal_s=engine_cal_s), len(taken)


def test_a_clear_parallel_student_is_decided_in_two_pairs_with_its_confidence():
    decision, used = run_sequentially([(1.1, 1.12), (1.12, 1.08)] + [(1.1, 1.1)] * 7)
    assert (decision.outcome, used) == (PARALLEL, 2)
    assert decision.confidence >= 0.99 and decision.votes_parallel == 2
    assert decision.engine_speedup == pytest.approx(2.0 / 1.1, rel=1e-3)
    assert [p["ratio"] for p in decision.pairs] == [pytest.approx(1.12 / 1.1, rel=1e-3),
                                                     pytest.approx(1.08 / 1.12, rel=1e-3)]


def test_a_clear_serial_student_is_decided_in_three_pairs():
    # a zero needs more than a pass: three net votes (99.9%), and the student's fastest run slow too
    decision, used = run_sequentially([(1.1, 2.05), (1.1, 2.2)] + [(1.1, 2.0)] * 7)
    assert (decision.outcome, used) == (SERIAL, 3) and decision.confidence >= 0.999


def test_two_slow_pairs_never_fail_a_student():
    decision = decide(SERIAL_S, pairs((1.1, 1.7), (1.1, 1.8)), 2, 2, final=True)
    assert decision.outcome == UNDECIDED and decision.votes_serial == 2


def test_a_busy_machine_never_fails_a_student_on_the_clock():
    # the engine at 1.3x (2.0 s serial, 1.54 s engine): even a student 1.4x slower than it is not failed on timing
    decision = decide(SERIAL_S, pairs(*[(1.54, 2.15)] * 9), 2, 2, final=True)
    assert decision.engine_speedup < 1.4 and decision.votes_serial == 9 and decision.outcome == UNDECIDED


def test_votes_for_serial_do_not_fail_a_student_whose_fastest_run_was_fast():
    # three slow pairs, but one earlier run as fast as the engine: noise cannot make a run fast
    runs = [(1.1, 1.12), (1.1, 1.7), (1.1, 1.8), (1.1, 1.75), (1.1, 1.7)]
    decision = decide(SERIAL_S, pairs(*runs), 2, 2, final=True)
    assert decision.votes_serial - decision.votes_parallel >= 3 and decision.outcome == UNDECIDED


def test_with_a_calibration_a_fast_student_is_decided_by_one_pair_and_the_midpoint():
    # calibrated: one process 2.0 s, the engine 1.1 s -> midpoint sqrt(2.0 * 1.1) = 1.48 s
    decision, used = run_sequentially([(1.12, 1.1)] + [(1.1, 1.1)] * 8, engine_cal_s=1.1)
    assert (decision.outcome, used) == (PARALLEL, 1) and decision.anchor_vote
    assert decision.confidence >= 0.99 and decision.midpoint_s == pytest.approx((2.0 * 1.1) ** 0.5, rel=1e-3)


def test_the_midpoint_never_votes_serial_a_slow_run_costs_a_second_pair():
    # a neighbour slowed a correct student's only run past the midpoint: no vote, the pairs decide
    first = decide(SERIAL_S, pairs((1.1, 1.6)), 2, 2, engine_cal_s=1.1)
    assert first.outcome == UNDECIDED and not first.anchor_vote and first.votes_serial == 1
    decision, used = run_sequentially([(1.1, 1.6), (1.1, 1.1), (1.1, 1.12)] + [(1.1, 1.1)] * 6, engine_cal_s=1.1)
    assert decision.outcome == PARALLEL and decision.anchor_vote and used == 3  # its fastest run now votes
    decision, used = run_sequentially([(1.1, 2.0)] * 9, engine_cal_s=1.1)
    assert (decision.outcome, used) == (SERIAL, 3) and decision.votes_serial == 3


@pytest.mark.parametrize("engine_now, engine_cal, why", [
    (0.9, 1.1, "the machine got faster since calibration: the anchors are stale"),
    (1.1, 1.8, "calibration saw the engine no faster than one process"),
])
def test_the_midpoint_does_not_vote_on_stale_or_useless_anchors(engine_now, engine_cal, why):
    decision, used = run_sequentially([(engine_now, 1.0)] * 9, engine_cal_s=engine_cal)
    assert not decision.anchor_vote and decision.midpoint_s == 0 and used == 2, why


def test_a_certain_structural_mistake_needs_no_second_pair():
    decision, used = run_sequentially([(1.1, 2.0)] * 9, engine_cal_s=1.1, certain_mistake=True)
    assert used == 1 and decision.outcome == UNDECIDED
    decision, used = run_sequentially([(1.1, 1.1)] * 9, certain_mistake=True)  # even when it looks fast
    assert used == 1


def test_noisy_outliers_only_cost_more_pairs():
    # two pairs where a neighbour slowed the student's run down: still parallel, after six pairs
    decision, used = run_sequentially([(1.1, 1.1), (1.1, 1.9), (1.1, 1.12), (1.1, 1.6), (1.12, 1.1),
                                       (1.1, 1.1), (1.1, 1.1), (1.1, 1.1), (1.1, 1.1)])
    assert decision.outcome == PARALLEL and used == 6 and decision.votes_serial == 2


def test_ambiguous_pairs_end_undecided_after_the_maximum():
    flip = [(1.1, 1.1), (1.1, 2.0)] * MAX_PAIRS
    decision, used = run_sequentially(flip)
    assert decision.outcome == UNDECIDED and used == MAX_PAIRS and "did not separate" in decision.reason


def test_a_machine_that_shows_no_speedup_is_not_measurable_after_two_pairs():
    decision, used = run_sequentially([(1.95, 1.9), (2.0, 2.05)] + [(2.0, 2.0)] * 7)
    assert decision.outcome == UNDECIDED and used == 2 and "cannot show a speedup" in decision.reason


def test_a_machine_that_showed_no_speedup_at_calibration_either_is_not_measurable_after_one_pair():
    # a hog: calibration's engine 1.9 s for 2.0 s of serial work, this check's engine no faster
    decision, used = run_sequentially([(1.98, 1.95)] + [(1.5, 1.5)] * 8, engine_cal_s=1.9)
    assert decision.outcome == UNDECIDED and used == 1 and "cannot show a speedup" in decision.reason
    # one usable CPU: the speedups are capped at 1 whatever the times say
    decision, used = run_sequentially([(1.1, 1.1)] * 9, cpus=1, engine_cal_s=1.1)
    assert decision.outcome == UNDECIDED and used == 1 and "1 usable CPU" in decision.reason


@pytest.mark.parametrize("engine_cal, why", [
    (1.1, "calibration saw 1.8x: a slow first engine run is a neighbour's burst, not the machine"),
    (None, "no calibration to agree with"),
])
def test_one_slow_engine_run_alone_never_ends_the_measurement(engine_cal, why):
    decision, used = run_sequentially([(1.98, 1.95), (1.1, 1.1), (1.1, 1.12)] + [(1.1, 1.1)] * 6,
                                      engine_cal_s=engine_cal)
    assert decision.outcome == PARALLEL and used >= 2, why


def test_a_busy_machine_gets_a_third_pair_to_show_its_speed():
    # 1.14x after two pairs (half a core taken): the third pair finds the engine at 1.33x, and decides
    decision, used = run_sequentially([(1.8, 1.8), (1.8, 1.85), (1.55, 1.5)] + [(1.55, 1.55)] * 6)
    assert decision.outcome == PARALLEL and used == 3 and decision.engine_speedup > 1.2
    decision, used = run_sequentially([(1.8, 1.8)] * 9)  # still 1.14x after three: not measurable
    assert decision.outcome == UNDECIDED and used == 3


def test_the_engines_speedup_is_capped_like_the_students_by_the_cpus_it_had():
    # a slow serial anchor (throttled calibration) cannot make a Pool(2) look 3x faster, nor move the midpoint there
    decision = decide([3.6], pairs((1.1, 2.0), (1.1, 2.0), (1.1, 2.0)), 2, 2)
    assert decision.engine_speedup == 2.0 and decision.outcome == SERIAL


def structure(**changes) -> Structure:
    values = dict(processes=2, pools_created=1, threadpools_created=0, workers_started=2, child_cpu_s=2.0,
                  serial_cpu_s=2.0, parallelism=1.8, usable_cpus=2, engine_parallelism=1.85)
    values.update(changes)
    return Structure(**values)


def decided(outcome: str):
    runs = {PARALLEL: [(1.1, 1.1)] * 2, SERIAL: [(1.1, 2.0)] * 3, UNDECIDED: [(2.0, 2.0)] * 2}[outcome]
    return decide(SERIAL_S, pairs(*runs), 2, 2, final=True)


def test_full_points_need_a_parallel_decision_and_a_clean_structure():
    verdict = judge(decided(PARALLEL), structure())
    assert verdict.fraction == 1.0 and verdict.measurable and "confident" in verdict.feedback


@pytest.mark.parametrize("changes, says", [
    ({"pools_created": 8}, "created 8 Pools"),
    ({"workers_started": 40}, "started 40 worker processes when asked for 2"),
    ({"workers_started": 1}, "one worker does everything"),
    ({"threadpools_created": 1, "workers_started": 0, "child_cpu_s": 0.0}, "ThreadPool"),
    ({"child_cpu_s": 0.1}, "did not run in them"),
    ({"parallelism": 1.0}, "kept 1.00 CPUs busy on average where the engine's kept 1.85"),
])
def test_structure_names_the_mistake_whatever_the_clock_says(changes, says):
    for outcome in ((PARALLEL, UNDECIDED) if "pools_created" in changes or "parallelism" not in changes
                    else (UNDECIDED,)):
        verdict = judge(decided(outcome), structure(**changes))
        assert verdict.fraction == 0.0 and says in verdict.feedback, (outcome, verdict.feedback)
        assert verdict.basis == ("measured" if outcome == PARALLEL else "structure")


def test_only_counts_and_cpu_are_certain_overlap_can_be_noise():
    assert structure(pools_created=8).certain_mistakes() and structure(child_cpu_s=0.1).certain_mistakes()
    overlap = structure(parallelism=1.0)  # a neighbour's burst during the student's run looks the same
    assert overlap.mistakes() and not overlap.certain_mistakes()
    # so a confident clock outranks it; without one, it still fails the check
    assert judge(decided(PARALLEL), overlap).fraction == 1.0
    assert judge(decided(UNDECIDED), overlap).fraction == 0.0


def test_too_many_workers_is_a_certain_mistake():
    """workers_started is the witness's count of worker processes (started_processes), not the runner's."""
    many = structure(workers_started=40)
    assert "started 40 worker processes when asked for 2" in many.certain_mistakes()[0]
    assert judge(decided(UNDECIDED), many).fraction == 0.0
    assert not structure(workers_started=2, processes_seen=4).certain_mistakes()  # helpers are not workers


def test_serial_gets_nothing_and_says_how_sure():
    verdict = judge(decided(SERIAL), structure())
    assert verdict.fraction == 0.0 and "no faster than one process (99" in verdict.feedback
    assert "although it starts worker processes" in verdict.feedback
    both = judge(decided(SERIAL), structure(workers_started=1))  # the cause first, then the clock
    assert both.feedback.index("started 1 worker process") < both.feedback.index("The clock agrees")


def test_not_measurable_follows_the_policy():
    undecided = decided(UNDECIDED)
    structural = judge(undecided, structure(parallelism=0.9, usable_cpus=1))  # one CPU: overlap cannot show
    assert judge(undecided, structure(parallelism=1.0, engine_parallelism=1.2)).fraction == 1.0  # a busy machine
    assert structural.fraction == 1.0 and not structural.measurable and "not measurable" in structural.feedback
    assert judge(undecided, structure(), "skip").skipped
    assert judge(undecided, structure(), "fail").fraction == 0.0


CONFTEST = """
import json, os, time
import pytest
import mpgrade.sandbox.launcher as launcher

LOG = os.environ["WINDOWS_LOG"]
original = launcher._run_in

def logged(workdir, request, *rest):
    began = time.time()
    try:
        return original(workdir, request, *rest)
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
from mpgrade import check
from mpgrade.sandbox import cpulock

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
    from mpgrade.grading.direct import run_check

    from conftest import whole

    cheat = whole(Path(__file__).parent / "submissions" / "speedup" / "clock_patch")
    outcome = run_check("ex02_pool", "test_primes_in_ranges_speedup", cheat, seed=7)
    assert outcome.status == "failed" and outcome.fraction == 0.0, outcome.feedback
    decision = outcome.details["decision"]
    assert decision["student_speedup"] < 2.0, decision  # the patched clock claims 4x; one worker is ~1x
    # What the check cost, split into waiting for the CPUs and holding them (benchmarks/batch.py reads it).
    cost = outcome.details["cost"]
    assert 0 <= cost["waited_s"] and 0 < cost["holding_s"] <= outcome.seconds, (cost, outcome.seconds)
    assert isinstance(cost["calibrated"], bool)
