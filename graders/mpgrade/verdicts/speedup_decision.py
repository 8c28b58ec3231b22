"""Deciding "as parallel as the engine" against "no faster than one process", with a stated confidence.

Pure functions over measured times (trusted side; nothing here runs or
times anything). The measurement (``speedup.py``) interleaves runs in
pairs: the engine's own ``Pool(processes)`` over the work, then the
student's function over the same work. The serial time of the work (one
process, calibrated once) is the other anchor.

Why these estimators. On a shared machine noise only ever *adds* time (a
neighbour steals the CPU, a page fault, a slow start): the fastest run is
the best estimate of what code costs, and a pair run back to back sees the
same machine. So:

- the engine's speedup is ``g = serial_min / engine_min``, capped at the
  CPUs and processes it had (it can never truly exceed them);
- each pair votes by its own ratio ``r = student / engine``: "parallel"
  when ``r`` is below the geometric midpoint ``sqrt(g)`` of the two
  hypotheses (``r = 1``: as fast as the engine; ``r = g``: as slow as one
  process), "serial" when above;
- the calibration adds one more vote, for "parallel" only: the student's
  fastest run under the geometric midpoint ``sqrt(serial_min * engine_cal)``
  of the calibrated anchors, while the engine runs no faster than it did
  at calibration. Noise only ever adds time, so it cannot make a serial
  run that fast; a slow run, which noise can make, is no vote at all. A
  correct student is then decided by one pair and the anchor; a slow one
  always needs the pairs;
- votes are read sequentially (Wald's test): with each pair assumed wrong
  with probability ``PAIR_ERROR``, the log-likelihood ratio after ``n``
  pairs of which ``k`` voted "parallel" is ``(2k - n) log((1-e)/e)``;
  the decision is taken (never on fewer than ``MIN_VOTES``) as soon as it
  passes ``log((1-a)/a)`` for the stated error ``a``: 1% for "parallel";
  0.1% for "serial", which costs the student the points, and then only if
  the student's fastest run is no faster than the midpoint either. More
  pairs are taken only while undecided, and the result is "not measurable"
  only if ``MAX_PAIRS`` cannot decide;
- the student and the engine are treated alike: the same estimator on both
  sides, no correction applied to one only.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

PAIR_ERROR = 0.08
"""Assumed chance that one pair, alone, votes for the wrong hypothesis (a noisy pair).

Measured: 0 such votes in 120 pairs of known truth (benchmarks/speedup.py at idle and under half a
core of load, results-speedup.txt), so 8% is a cautious assumption; two agreeing pairs give 99.2%."""
DECISION_ERROR = 0.01
"""The error a "parallel" decision may have: its confidence is at least 1 - this."""
SERIAL_DECISION_ERROR = 0.001
"""The error a "serial" decision may have: it costs a student the points, so it needs three net votes.

Under half a core of load and a neighbour's bursts the benchmark saw up to 8 of 43 pairs of one
correct variant vote serial: two such pairs must never fail a student."""
MIN_VOTES = 2
"""No decision on one vote: one pair alone is 92% at best."""
MAX_PAIRS = 9
ANCHOR_FASTER = 0.1
"""The calibrated anchors vote only while the check's fastest engine run is at most this much faster than
calibration's: a machine that got faster since (calibrated under load) could let a serial run beat stale
anchors; one that got slower only makes the vote harder to earn."""
MIN_ENGINE_SPEEDUP = 1.2
"""Below this the machine cannot show a speedup now (one usable CPU, a hog, a throttled VM)..."""
SERIAL_MIN_ENGINE_SPEEDUP = 1.4
"""A zero from the clock also needs the engine at least this fast: at 1.3x (half a core taken) "as fast as
the engine" and "as slow as one process" are 14% apart per run, within a busy machine's noise (the 20-run
benchmark under heavy load failed a correct variant once with 1.2 <= engine < 1.4). Below it, a slow
student is left to the structure (the fallback), never failed on the clock alone."""
HOPELESS_ENGINE_SPEEDUP = 1.05
"""...which two pairs settle below this (one pair when calibration saw no speedup either); between the two, a
third pair may still find the engine's speed."""

PARALLEL, SERIAL, UNDECIDED = "parallel", "serial", "undecided"


@dataclass(frozen=True)
class Pair:
    """One engine run and the student run right after it, seconds as the grading process saw them."""

    engine_s: float
    student_s: float

    @property
    def ratio(self) -> float:
        return self.student_s / self.engine_s if self.engine_s > 0 else math.inf


@dataclass(frozen=True)
class Decision:
    """What the pairs say, and how sure that is."""

    outcome: str
    """PARALLEL, SERIAL or UNDECIDED (not measurable here)."""
    confidence: float
    """Probability of the outcome given the votes (equal prior odds), 0.5 when undecided."""
    engine_speedup: float
    threshold: float
    """Ratio student/engine that separates the two hypotheses (sqrt of the engine speedup)."""
    votes_parallel: int
    votes_serial: int
    student_speedup: float
    """serial_min / student_min: the student's speedup by the same estimator as the engine's."""
    reason: str = ""
    pairs: list[dict[str, float]] = field(default_factory=list)
    anchor_vote: bool = False
    """One of ``votes_parallel`` is the student's fastest run beating the calibrated midpoint."""
    midpoint_s: float = 0.0
    """That midpoint, sqrt(serial * engine) as calibrated (0 when the calibration may not vote)."""

    def as_details(self) -> dict[str, Any]:
        return asdict(self)


def engine_speedup(serial_s: list[float], pairs: list[Pair], cpus: int, processes: int) -> float:
    """The engine's speedup by the fastest runs, never more than the CPUs and processes it had."""
    fastest_engine = min(p.engine_s for p in pairs)
    return min(min(serial_s) / fastest_engine, float(max(1, min(cpus, processes))))


def log_odds(parallel: int, serial: int, pair_error: float = PAIR_ERROR) -> float:
    """Log-likelihood ratio of "parallel" against "serial" after these votes."""
    return (parallel - serial) * math.log((1 - pair_error) / pair_error)


def calibrated_midpoint(serial_s: list[float], pairs: list[Pair], cpus: int, processes: int,
                        engine_cal_s: float | None) -> float:
    """The time under which a student's run votes "parallel" on the calibration's word; 0 when it may not vote.

    It may vote when calibration saw the engine faster than one process and this check's engine runs
    no faster than calibration's (else the machine was busier at calibration and the anchors are stale).
    """
    if not engine_cal_s or not pairs:
        return 0.0
    serial = min(serial_s)
    if calibrated_speedup(serial_s, engine_cal_s, cpus, processes) < MIN_ENGINE_SPEEDUP:
        return 0.0
    if min(p.engine_s for p in pairs) < (1 - ANCHOR_FASTER) * engine_cal_s:
        return 0.0
    return math.sqrt(serial * engine_cal_s)


def decide(serial_s: list[float], pairs: list[Pair], cpus: int, processes: int, final: bool = False,
           engine_cal_s: float | None = None) -> Decision:
    """The decision so far; ``final`` when no more pairs will come (then UNDECIDED means not measurable).

    ``engine_cal_s``: the engine's time at calibration, which lets the calibrated midpoint vote.
    """
    if not serial_s or not pairs:
        raise ValueError("need at least one serial run and one pair")
    g = engine_speedup(serial_s, pairs, cpus, processes)
    threshold = math.sqrt(g)
    fastest = min(p.student_s for p in pairs)
    student = min(serial_s) / fastest
    table = [{"engine_s": round(p.engine_s, 4), "student_s": round(p.student_s, 4), "ratio": round(p.ratio, 4)}
             for p in pairs]
    midpoint = calibrated_midpoint(serial_s, pairs, cpus, processes, engine_cal_s)
    common = dict(engine_speedup=round(g, 4), threshold=round(threshold, 4), student_speedup=round(student, 4),
                  pairs=table, midpoint_s=round(midpoint, 4))
    if cpus < 2:
        reason = (f"the grading has {cpus} usable CPU here (affinity, cgroup quota or MPGRADE_CPUS), so no Pool "
                  "can be faster than one process: the machine cannot show a speedup")
        return Decision(UNDECIDED, 0.5, votes_parallel=0, votes_serial=0, reason=reason, **common)
    if g < MIN_ENGINE_SPEEDUP:
        reason = (f"the engine's own Pool({processes}) reached only {g:.2f}x over one process here "
                  f"({cpus} usable CPU(s)): the machine cannot show a speedup right now")
        return Decision(UNDECIDED, 0.5, votes_parallel=0, votes_serial=0, reason=reason, **common)
    anchor = 0 < fastest < midpoint
    parallel = sum(p.ratio < threshold for p in pairs) + anchor
    serial = len(pairs) + anchor - parallel
    odds = log_odds(parallel, serial)
    confidence = 1 / (1 + math.exp(-abs(odds)))
    common["anchor_vote"] = anchor
    if parallel + serial >= MIN_VOTES:
        if odds >= math.log((1 - DECISION_ERROR) / DECISION_ERROR):
            return Decision(PARALLEL, round(confidence, 4), votes_parallel=parallel, votes_serial=serial, **common)
        # Serial also needs the student's *fastest* run past the midpoint from the engine's fastest: noise only
        # adds time, so a correct student's best run stays near the engine's best however many slow pairs it had.
        best_ratio = fastest / min(p.engine_s for p in pairs)
        if (odds <= -math.log((1 - SERIAL_DECISION_ERROR) / SERIAL_DECISION_ERROR) and best_ratio >= threshold
                and g >= SERIAL_MIN_ENGINE_SPEEDUP):
            return Decision(SERIAL, round(confidence, 4), votes_parallel=parallel, votes_serial=serial, **common)
    reason = "" if not final else (f"{len(pairs)} pairs did not separate the two at {1 - DECISION_ERROR:.0%} "
                                   f"confidence ({parallel} looked parallel, {serial} serial)")
    return Decision(UNDECIDED, 0.5, votes_parallel=parallel, votes_serial=serial, reason=reason, **common)


def needs_more(decision: Decision, pairs: int, certain_mistake: bool = False,
               calibrated_engine_speedup: float | None = None) -> bool:
    """Take another pair? Only while undecided and pairs remain, and while the machine may still show a speedup.

    ``certain_mistake``: the structure already shows a mistake no noise can make (a ThreadPool, a Pool per
    item, 40 workers for 2, no work in the workers): the verdict is zero whatever the clock says, so one
    pair (kept for the feedback's figures) is enough.
    ``calibrated_engine_speedup``: the engine's speedup when this grading process calibrated. When the
    calibration's engine and this check's first engine run both show no speedup (one usable CPU, a hog),
    two independent measurements agree that the machine cannot show one: a second pair would cost the
    student a few seconds to say the same. A machine that showed a speedup at calibration gets the pairs.
    """
    if decision.outcome != UNDECIDED or (certain_mistake and pairs >= 1):
        return False
    if (pairs >= 1 and decision.engine_speedup < HOPELESS_ENGINE_SPEEDUP
            and calibrated_engine_speedup is not None and calibrated_engine_speedup < MIN_ENGINE_SPEEDUP):
        return False
    if pairs < 2:
        return True
    if decision.engine_speedup < HOPELESS_ENGINE_SPEEDUP or (
            decision.engine_speedup < MIN_ENGINE_SPEEDUP and pairs >= 3):
        return False
    return pairs < MAX_PAIRS


def calibrated_speedup(serial_s: list[float], engine_cal_s: float, cpus: int, processes: int) -> float:
    """The engine's speedup at calibration, capped like every speedup by the CPUs and processes it had."""
    return min(min(serial_s) / engine_cal_s if engine_cal_s > 0 else 0.0, float(max(1, min(cpus, processes))))
