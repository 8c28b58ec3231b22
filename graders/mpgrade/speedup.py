"""Speedup grading that is fair on noisy, small and throttled machines (trusted side).

A fixed threshold ("speedup >= 1.5") fails correct students at random on a
shared 2-core machine. Instead, measure in the same run what this machine
can deliver right now:

    warm-up, then rounds of:  serial baseline | engine's own Pool | student's function
                              (same work, same start method, interleaved)

all inside sandboxes, under the machine-wide exclusive CPU lock (nothing else
of any grading process runs meanwhile), timed from the grading process (from
the sandbox's "imported" message to its result's arrival, so a student who
patches ``time.perf_counter`` gains nothing), and compare medians. The number of
rounds adapts: two when both would give (nearly) the same points, up to
five when they disagree, so a noisy round on a shared machine is outvoted
instead of deciding a grade, and the common, clear cases cost two rounds
instead of three.

- the student's speedup is at least 75% of the engine's: full points;
- between "no real speedup" (1.1) and that: partial points, linearly;
- the child processes' CPU time must cover the work (threads and
  ``time.sleep`` fakes get nothing).

When the machine cannot show a speedup (fewer than 2 usable CPUs, or the
engine's own speedup below 1.5), the student is not failed for it: the
instructor's policy decides (structural evidence by default), and the
report says "not measurable here" with the figures.
"""
from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass, field
from typing import Any

from . import cpulock, machine
from .evidence import calls
from .outcomes import CheckFailed

MIN_ROUNDS = 2
MAX_ROUNDS = 5
AGREEMENT = 0.25
FULL_FRACTION = 0.75
NO_SPEEDUP = 1.1
MIN_ENGINE_SPEEDUP = 1.5
MIN_CHILD_CPU_SHARE = 0.5
POLICIES = ("structural", "skip", "fail")


@dataclass(frozen=True)
class Figures:
    """What one speedup check measured."""

    serial_s: float
    engine_s: float
    student_s: float
    engine_speedup: float
    student_speedup: float
    usable_cpus: int
    cpu_budget: float
    processes: int
    rounds: int
    serial_cpu_s: float
    """CPU time of the work done serially."""
    student_child_cpu_s: float
    """CPU time the student's child processes used (median over rounds)."""
    student_processes_started: int

    @property
    def measurable(self) -> bool:
        return self.usable_cpus >= 2 and self.engine_speedup >= MIN_ENGINE_SPEEDUP

    @property
    def parallelism(self) -> float:
        """CPUs the student's worker processes kept busy on average: a speedup can never exceed it."""
        return self.student_child_cpu_s / self.student_s if self.student_s else 0.0

    @property
    def credited_speedup(self) -> float:
        """The speedup graded: the measured one, capped by the parallelism actually achieved.

        On a noisy shared machine the serial baseline can come out slow, so a
        Pool(1) once measured 1.19x; its workers kept 1.0 CPUs busy, and that
        is what it gets credited.
        """
        return min(self.student_speedup, self.parallelism)

    def summary(self) -> str:
        return (f"serial {self.serial_s:.2f} s, the engine's Pool({self.processes}) {self.engine_s:.2f} s "
                f"(speedup {self.engine_speedup:.2f}), yours {self.student_s:.2f} s (speedup "
                f"{self.student_speedup:.2f}); {self.usable_cpus} usable CPU(s), medians of {self.rounds} rounds")


@dataclass
class Rounds:
    """What each round measured, in order."""

    serial: list[float] = field(default_factory=list)
    engine: list[float] = field(default_factory=list)
    student: list[float] = field(default_factory=list)
    serial_cpu: list[float] = field(default_factory=list)
    child_cpu: list[float] = field(default_factory=list)
    started: list[int] = field(default_factory=list)

    def figures(self, usable_cpus: int, cpu_budget: float, processes: int, only: int | None = None) -> Figures:
        """Medians over every round, or the figures of round ``only`` alone."""
        def pick(values: list) -> list:
            return values if only is None else [values[only]]

        s, e, m = (statistics.median(pick(v)) for v in (self.serial, self.engine, self.student))
        return Figures(serial_s=s, engine_s=e, student_s=m, engine_speedup=s / e if e else 0.0,
                       student_speedup=s / m if m else 0.0, usable_cpus=usable_cpus, cpu_budget=cpu_budget,
                       processes=processes, rounds=len(pick(self.student)),
                       serial_cpu_s=statistics.median(pick(self.serial_cpu)),
                       student_child_cpu_s=statistics.median(pick(self.child_cpu)),
                       student_processes_started=min(pick(self.started)))


def enough_rounds(rounds: Rounds, usable_cpus: int = 2, processes: int = 2) -> bool:
    """Stop after MIN_ROUNDS when the rounds agree to within AGREEMENT of the points; always at MAX_ROUNDS.

    Each round is judged alone exactly as ``judge`` judges the medians (with
    the structural policy where that round could not show a speedup), so
    rounds that agree on the points would not move the final verdict.
    """
    count = len(rounds.student)
    if count >= MAX_ROUNDS:
        return True
    if count < MIN_ROUNDS:
        return False
    fractions = [judge(rounds.figures(usable_cpus, float(usable_cpus), processes, only=i)).fraction
                 for i in range(count)]
    return max(fractions) - min(fractions) <= AGREEMENT


def _outside(result: Any, inside: float | None) -> float:
    """A run's duration as the grading process saw it (student code may patch the sandbox's clocks)."""
    return float(result.outside_seconds if result.outside_seconds is not None else inside or 0.0)


def measure(student: Any, function: str, args: tuple, work: str, items: list, processes: int,
            expected: Any, timeout: float = 60) -> Figures:
    """Measure serial, engine and student runs of the same work, interleaved, with nothing else running.

    ``work`` is the module's per-item function (e.g. ``count_primes``) that
    ``function(*args)`` spreads over processes. Fails the check if the
    student's function errs or returns anything but ``expected``.
    """
    __tracebackhide__ = True
    budget = machine.cpu_budget()
    rounds = Rounds()
    with cpulock.exclusive():
        student.drive("engine_pool_map", work, items[:processes], processes, timeout=timeout,
                      what="the speedup warm-up")
        while not rounds.student or (budget.usable >= 2 and not enough_rounds(rounds, budget.usable, processes)):
            # With one usable CPU there is nothing to measure: one round gathers the structural evidence.
            run = student.drive("serial_map", work, items, timeout=timeout,
                                what=f"{work} over the inputs, one after another")
            rounds.serial.append(_outside(run, run.value["seconds"]))
            rounds.serial_cpu.append(run.value["cpu_s"])
            run = student.drive("engine_pool_map", work, items, processes, timeout=timeout,
                                what=f"a Pool({processes}) running {work}")
            rounds.engine.append(_outside(run, run.value["seconds"]))
            result = student.call(function, *args, timeout=timeout)
            if result.value != expected:
                raise CheckFailed(f"{function} returned {str(result.value)[:120]}; expected {str(expected)[:120]}. "
                                  "A speedup counts only for a correct answer.")
            rounds.student.append(_outside(result, result.seconds))
            rounds.child_cpu.append(float(result.children_cpu_s or 0.0))
            rounds.started.append(calls(result, "Process.start", from_student=False))
    return rounds.figures(budget.usable, budget.cpus, processes)


@dataclass(frozen=True)
class Verdict:
    """Points for a speedup check and the words for the student."""

    fraction: float
    """Share of the check's points, 0 to 1."""
    feedback: str
    measurable: bool
    skipped: bool = False


def judge(figures: Figures, policy: str = "structural") -> Verdict:
    """Turn measured figures into a share of the points (pure; see the module docstring)."""
    children_do_the_work = figures.student_child_cpu_s >= MIN_CHILD_CPU_SHARE * figures.serial_cpu_s
    if not figures.measurable:
        why = (f"only {figures.usable_cpus} usable CPU" if figures.usable_cpus < 2 else
               f"the engine's own Pool reached only {figures.engine_speedup:.2f}x here (the machine is busy or throttled)")
        note = f"Speedup not measurable on this machine: {why}. Figures: {figures.summary()}."
        if policy == "skip":
            return Verdict(0.0, note + " Skipped by the instructor's policy.", False, skipped=True)
        if policy == "fail":
            return Verdict(0.0, note + " Your instructor's policy counts that as a fail; ask for a regrade "
                                       "on a machine with at least 2 free CPUs.", False)
        several = figures.student_processes_started >= 2
        if children_do_the_work and several:
            return Verdict(1.0, note + f" Graded on structural evidence instead: {figures.student_processes_started} "
                                       f"worker processes used {figures.student_child_cpu_s:.2f} s of CPU for work "
                                       f"that takes {figures.serial_cpu_s:.2f} s serially.", False)
        return Verdict(0.0, note + " The structural evidence does not show parallel work either: "
                       f"{figures.student_processes_started} worker process(es) used {figures.student_child_cpu_s:.2f} s "
                       f"of CPU for work that takes {figures.serial_cpu_s:.2f} s serially. Hand the work to a "
                       "multiprocessing.Pool of several processes.", False)
    if not children_do_the_work:
        return Verdict(0.0, f"Your child processes used {figures.student_child_cpu_s:.2f} s of CPU for work that "
                            f"takes {figures.serial_cpu_s:.2f} s serially, so the work did not run in them (threads, "
                            f"or waiting instead of computing). {figures.summary()}.", True)
    full_at = FULL_FRACTION * figures.engine_speedup
    speedup = figures.credited_speedup
    capped = (f" Your workers kept {figures.parallelism:.2f} CPUs busy on average, so {speedup:.2f}x is credited."
              if speedup < figures.student_speedup else "")
    if speedup >= full_at:
        return Verdict(1.0, f"Speedup {speedup:.2f}x: {figures.summary()}.", True)
    fraction = max(0.0, min(1.0, (speedup - NO_SPEEDUP) / (full_at - NO_SPEEDUP)))
    return Verdict(fraction, f"Your speedup is {speedup:.2f}x; full points need {full_at:.2f}x "
                             f"(75% of what a plain Pool reaches on this machine right now). {figures.summary()}.{capped} "
                             "Use a Pool with one process per CPU and give every worker a share of the work "
                             "(pool.map), and create the Pool once, not per item.", True)


def check_speedup(student: Any, details: dict, policy: str, function: str, args: tuple, work: str,
                  items: list, processes: int, expected: Any) -> None:
    """Measure and grade in one go: full points pass, partial or none fail, not-measurable follows ``policy``."""
    __tracebackhide__ = True
    figures = measure(student, function, args, work, items, processes, expected)
    verdict = judge(figures, policy)
    details.update(speedup=asdict(figures), measurable=verdict.measurable)
    if verdict.skipped:
        import pytest

        pytest.skip(verdict.feedback)
    if verdict.fraction < 1.0:
        raise CheckFailed(verdict.feedback, fraction=verdict.fraction)
    details["note"] = verdict.feedback
