"""Speedup grading: measured in pairs, decided with a stated confidence, backed by structure (trusted side).

    calibrate (once per grading process, shared through a file by a batch):
        serial runs of the work (the "one process" anchor), engine Pool runs (the fastest kept)
    per check, with CPUs to itself (cpulock.measurement: its own CPU set, or the whole machine):
        warm-up, then pairs:  engine Pool(processes) | student's function    (same work, back to back)
        until speedup_decision.decide() separates "as parallel as the engine"
        from "no faster than one process" (a fast student: one pair and the
        calibrated midpoint), or MAX_PAIRS say it cannot, or the structure
        shows a mistake no noise can make (then the clock is not needed), or
        the first pair and the calibration agree the machine shows no speedup
        (a hog); with one usable CPU there is no engine run, only the student's
    structure (every run): Pools created, worker processes started against
        the processes asked for, the workers' CPU against the work's, overlap

Every run is timed from the grading process (a patched clock gains nothing).
Points are all or nothing: full when the pairs say parallel (or cannot
decide, under the "structural" policy) and the structure shows no mistake;
none when the pairs say serial, or the structure names a mistake. Noise can
no longer shave a correct student's points, and a mistake that hides from
the clock (a Pool per item, 40 workers for 2) shows in the structure.

It runs past 300 lines on purpose: the check's flow (measure, decide, word) stays in one
place; the decision rule itself is ``speedup_decision.py``.
"""
from __future__ import annotations

import ast
import hashlib
import json
import os
import platform
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from mpgrade.sandbox import cpulock, machine
from mpgrade.verdicts.evidence import calls, require_untampered, started_processes
from mpgrade.outcomes import CheckFailed
from mpgrade.verdicts.speedup_decision import (
    PARALLEL, SERIAL, UNDECIDED, Decision, Pair, calibrated_speedup, decide, needs_more,
)

POLICIES = ("structural", "skip", "fail")
SERIAL_RUNS = 2
ENGINE_RUNS = 2
"""The calibrated engine time is the fastest of these: one slow run would keep the calibrated midpoint from
voting for a whole batch (it votes only while a check's engine is no more than 10% faster than calibration's)."""
CALIBRATION_TTL_S = 900.0
"""How long a batch shares a calibration before measuring the serial anchor again."""
RECALIBRATE_DRIFT = 0.3
"""Measure the serial anchor again when this check's fastest engine run differs this much from calibration's."""
MIN_CHILD_CPU_SHARE = 0.5
OVERLAP_SHARE = 0.7
"""The student's workers must keep at least this share of the CPUs busy that the engine's kept busy..."""
MIN_ENGINE_OVERLAP = 1.3
"""...when the engine's own workers kept at least this many busy (else overlap cannot show here)."""


@dataclass(frozen=True)
class Calibration:
    """The serial anchor: what the work costs in one process, measured with the CPUs free."""

    serial_s: list[float]
    serial_cpu_s: float
    engine_s: float
    measured_at: float


@dataclass(frozen=True)
class Cost:
    """Where a check's seconds went: waiting for CPUs (other grading's calls), then holding them."""

    waited_s: float
    """Until the measurement had its CPUs: calls of other grading still running there finish first."""
    holding_s: float
    """With the CPUs held: this student's runs, their engine runs and, if ``calibrated``, the calibration."""
    calibrated: bool
    """Whether this check measured the serial anchor (the first of a batch, or the machine changed)."""


@dataclass(frozen=True)
class Structure:
    """What the student's runs show, whatever the clock says."""

    processes: int
    """Worker processes the function was asked to use."""
    pools_created: int
    threadpools_created: int
    workers_started: int
    child_cpu_s: float
    """CPU time of the student's child processes (the run with the most)."""
    serial_cpu_s: float
    parallelism: float
    """Child CPU / wall time of the student's most parallel run: CPUs kept busy on average."""
    usable_cpus: int
    engine_parallelism: float = 0.0
    """The same figure for the engine's most parallel run: what overlap this machine allows right now."""
    processes_seen: int = 0
    """New processes the supervisor's witness saw start in the student's run with the most (0: not witnessed).
    Counted from outside, so student code cannot lower it the way it can lower its reported counts."""

    @property
    def workers(self) -> int:
        """Worker processes started (witnessed, see ``started_processes``; the runner's count where unwitnessed)."""
        return self.workers_started

    def mistakes(self) -> list[str]:
        """Each mistake the structure shows, in plain words with its figures."""
        found = self.certain_mistakes()
        if (not found and self.usable_cpus >= 2 and self.engine_parallelism >= MIN_ENGINE_OVERLAP
                and self.parallelism < OVERLAP_SHARE * self.engine_parallelism):
            found.append(f"its workers kept {self.parallelism:.2f} CPUs busy on average where the engine's kept "
                         f"{self.engine_parallelism:.2f}, so they worked one after another, not at the same time "
                         "(e.g. all the work in one task): give every worker a share of the items.")
        return found

    def certain_mistakes(self) -> list[str]:
        """The mistakes shown by counts and CPU time, which no neighbour's load can fake (overlap can be)."""
        found = []
        if self.threadpools_created:
            found.append("it uses a ThreadPool: threads share one process and one CPU for Python code. "
                         "Use multiprocessing.Pool.")
        elif self.child_cpu_s < MIN_CHILD_CPU_SHARE * self.serial_cpu_s:
            found.append(f"its child processes used {self.child_cpu_s:.2f} s of CPU for work that takes "
                         f"{self.serial_cpu_s:.2f} s in one process, so the work did not run in them "
                         "(threads, or waiting instead of computing).")
        if self.pools_created > 1:
            found.append(f"it created {self.pools_created} Pools for one call; create one Pool and hand it all "
                         "the work (pool.map), not a Pool per item.")
        if self.workers > self.processes * max(1, self.pools_created):
            found.append(f"it started {self.workers} worker processes when asked for {self.processes}; "
                         "pass `processes` to multiprocessing.Pool.")
        elif 0 < self.workers_started < min(2, self.processes):
            found.append(f"it started {self.workers_started} worker process for {self.processes} asked for: one "
                         "worker does everything one item after another.")
        elif self.workers_started == 0 and not self.threadpools_created and not found:
            found.append("it started no worker process; hand the work to multiprocessing.Pool(processes).")
        return found


@dataclass(frozen=True)
class Verdict:
    """Points for a speedup check and the words for the student."""

    fraction: float
    feedback: str
    measurable: bool
    skipped: bool = False
    basis: str = "measured"
    """What decided it: "measured" (the clock), "structure" (a mistake, the clock undecided) or "fallback"."""


def _votes(decision: Decision) -> str:
    """The pairs' votes and the calibrated midpoint's, in words."""
    pairs = len(decision.pairs)
    parallel = decision.votes_parallel - decision.anchor_vote
    said = (f"{pairs} pair{'s' if pairs != 1 else ''}: {parallel} as parallel as the engine, "
            f"{decision.votes_serial} no faster than one process")
    if decision.anchor_vote:
        said += f"; your fastest run beat the calibrated midpoint of {decision.midpoint_s:.2f} s"
    return said


def judge(decision: Decision, structure: Structure, policy: str = "structural") -> Verdict:
    """All or nothing, from what the pairs decided and what the structure shows (pure)."""
    figures = (f"Figures: one process {structure.serial_cpu_s:.2f} s of CPU; the engine's Pool({structure.processes}) "
               f"{decision.engine_speedup:.2f}x faster than one process, yours {decision.student_speedup:.2f}x "
               f"(fastest runs; {_votes(decision)}).")
    # A confident clock outranks overlap (noise can fake low overlap, not a speedup); counts stand whatever it says.
    mistakes = structure.certain_mistakes() if decision.outcome == PARALLEL else structure.mistakes()
    if mistakes:  # the cause first, the clock's evidence after it
        timing = (f" The clock agrees: it was no faster than one process ({decision.confidence:.1%} confident)."
                  if decision.outcome == SERIAL else "")
        measured = decision.outcome != UNDECIDED
        return Verdict(0.0, f"Your function does not run the work in parallel as asked: {mistakes[0]}{timing} "
                            f"{figures}", measured, basis="measured" if measured else "structure")
    if decision.outcome == SERIAL:
        return Verdict(0.0, f"Your function is no faster than one process ({decision.confidence:.1%} confident), "
                            "although it starts worker processes: make sure every item's work runs in the Pool's "
                            f"workers, all at once, and that nothing else takes the time. {figures}", True)
    if decision.outcome == PARALLEL:
        return Verdict(1.0, f"As parallel as the engine's own Pool ({decision.confidence:.1%} confident). {figures}",
                       True)
    note = f"Speedup not measurable on this machine: {decision.reason}. {figures}"
    if policy == "skip":
        return Verdict(0.0, note + " Skipped by the instructor's policy.", False, skipped=True, basis="fallback")
    if policy == "fail":
        return Verdict(0.0, note + " Your instructor's policy counts that as a fail; ask for a regrade on a "
                                   "machine with at least 2 free CPUs.", False,
                       basis="fallback")
    return Verdict(1.0, note + f" Graded on structure instead: one Pool, {structure.workers} worker "
                               f"processes for {structure.processes} asked for, {structure.child_cpu_s:.2f} s of "
                               "their CPU for the work.", False, basis="fallback")


# ------------------------------------------------------------------------------------------------ measuring

_calibrations: dict[str, Calibration] = {}


def _outside(result: Any, inside: float | None) -> float:
    """A run's duration as the grading process saw it (student code may patch the sandbox's clocks)."""
    return float(result.outside_seconds if result.outside_seconds is not None else inside or 0.0)


def _function_source(path: Path, name: str) -> str:
    """The source text of top-level function ``name`` in the student's file (read as text, never run here)."""
    try:
        text = path.read_text(encoding="utf-8")
        for node in ast.parse(text).body:
            if isinstance(node, ast.FunctionDef) and node.name == name:
                return ast.get_source_segment(text, node) or ""
    except (OSError, SyntaxError, ValueError):
        pass
    return ""


def calibration_key(student: Any, work: str, items: list, processes: int, cpus: int) -> str:
    """What a calibration depends on: the work function's source, the inputs, the start method, the CPUs.

    Students of a batch who kept the given work function share one calibration.
    """
    source = _function_source(student.path, work)
    text = json.dumps([source, items, processes, cpus, student.settings.start_method, platform.python_version()])
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def _load_shared(key: str) -> Calibration | None:
    path = cpulock.lock_dir() / f"calibration-{key}.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        found = Calibration(**data)
    except (OSError, ValueError, TypeError):
        return None
    return found if time.time() - found.measured_at < CALIBRATION_TTL_S else None


def _store_shared(key: str, found: Calibration) -> None:
    path = cpulock.lock_dir() / f"calibration-{key}.json"
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    tmp.write_text(json.dumps(asdict(found)), encoding="utf-8")
    tmp.replace(path)


def _measure_serial(student: Any, work: str, items: list, processes: int, timeout: float) -> Calibration:
    serial, cpu = [], []
    for _ in range(SERIAL_RUNS):
        run = student.drive("serial_map", work, items, timeout=timeout,
                            what=f"{work} over the inputs, one after another")
        serial.append(_outside(run, run.value["seconds"]))
        cpu.append(run.value["cpu_s"])
    engine = []
    for _ in range(ENGINE_RUNS):
        run = student.drive("engine_pool_map", work, items, processes, timeout=timeout,
                            what=f"a Pool({processes}) running {work}")
        engine.append(_outside(run, run.value["seconds"]))
    return Calibration(serial, min(cpu), min(engine), time.time())


def measure(student: Any, function: str, args: tuple, work: str, items: list, processes: int,
            expected: Any, timeout: float = 60) -> tuple[Decision, Structure, Calibration, Cost]:
    """Pairs of engine and student runs until the decision is made; fails the check on a wrong answer."""
    __tracebackhide__ = True
    pairs: list[Pair] = []
    pools = threadpools = started = seen = 0
    child_cpu = parallelism = engine_parallelism = 0.0
    asked = time.monotonic()
    calibrated = False
    with cpulock.measurement(processes) as own:
        held = time.monotonic()
        cpus = len(own) if own else machine.cpu_budget().usable
        key = calibration_key(student, work, items, processes, cpus)
        calibration = _calibrations.get(key) or _load_shared(key)
        if calibration is None:
            student.drive("engine_pool_map", work, items[:processes], processes, timeout=timeout,
                          what="the speedup warm-up")
            calibration = _measure_serial(student, work, items, processes, timeout)
            _store_shared(key, calibration)
            calibrated = True
        _calibrations[key] = calibration
        while True:
            if cpus >= 2:
                run = student.drive("engine_pool_map", work, items, processes, timeout=timeout,
                                    what=f"a Pool({processes}) running {work}")
                engine_s = _outside(run, run.value["seconds"])
                # Overlap by the best run on each side: noise only lowers it (the wall clock grows, CPU does not).
                engine_parallelism = max(engine_parallelism,
                                         float(run.children_cpu_s or 0.0) / engine_s if engine_s else 0.0)
            else:  # one usable CPU: no Pool can be faster than one process, so there is no engine run to pair with
                engine_s = calibration.engine_s
            result = student.call(function, *args, timeout=timeout)
            if result.value != expected:
                raise CheckFailed(f"{function} returned {str(result.value)[:120]}; expected {str(expected)[:120]}. "
                                  "A speedup counts only for a correct answer.")
            require_untampered(result, "cpu")  # its CPU figures below are evidence too
            student_s = _outside(result, result.seconds)
            pairs.append(Pair(engine_s, student_s))
            threads = calls(result, "ThreadPool.__init__", from_student=False)
            threadpools = max(threadpools, threads)
            pools = max(pools, calls(result, "Pool.__init__", from_student=False) - threads)
            # Workers as the witness saw them (a Pool's, an executor's or the student's own Processes; never a
            # Manager's server or multiprocessing's helpers); the runner's count only where nothing witnessed.
            started = max(started, len(started_processes(result)) if result.witnessed
                          else calls(result, "Process.start", from_student=False))
            seen = max(seen, result.processes_seen or 0)
            child_cpu = max(child_cpu, float(result.children_cpu_s or 0.0))
            parallelism = max(parallelism, float(result.children_cpu_s or 0.0) / student_s if student_s else 0.0)
            if len(pairs) == 2 and abs(min(p.engine_s for p in pairs) / calibration.engine_s - 1) > RECALIBRATE_DRIFT:
                calibration = _measure_serial(student, work, items, processes, timeout)  # the machine changed
                calibrated = True
                _calibrations[key] = calibration
                _store_shared(key, calibration)
            decision = decide(calibration.serial_s, pairs, cpus, processes, engine_cal_s=calibration.engine_s)
            structure = Structure(processes=processes, pools_created=pools, threadpools_created=threadpools,
                                  workers_started=started, child_cpu_s=child_cpu,
                                  serial_cpu_s=calibration.serial_cpu_s, parallelism=round(parallelism, 3),
                                  usable_cpus=cpus, engine_parallelism=round(engine_parallelism, 3),
                                  processes_seen=seen)
            if not needs_more(decision, len(pairs), bool(structure.certain_mistakes()),
                              calibrated_speedup(calibration.serial_s, calibration.engine_s, cpus, processes)):
                break
        cost = Cost(round(held - asked, 3), round(time.monotonic() - held, 3), calibrated)
    decision = decide(calibration.serial_s, pairs, cpus, processes, final=True, engine_cal_s=calibration.engine_s)
    return decision, structure, calibration, cost


def check_speedup(student: Any, details: dict, policy: str, function: str, args: tuple, work: str,
                  items: list, processes: int, expected: Any) -> None:
    """Measure and grade in one go: full points pass, none fail, not-measurable follows ``policy``."""
    __tracebackhide__ = True
    decision, structure, calibration, cost = measure(student, function, args, work, items, processes, expected)
    verdict = judge(decision, structure, policy)
    details.update(decision=decision.as_details(), structure=asdict(structure), calibration=asdict(calibration),
                   cost=asdict(cost), measurable=verdict.measurable, basis=verdict.basis)
    if verdict.skipped:
        import pytest

        pytest.skip(verdict.feedback)
    if verdict.fraction < 1.0:
        raise CheckFailed(verdict.feedback, fraction=verdict.fraction)
    details["note"] = verdict.feedback
