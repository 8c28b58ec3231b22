"""A long call that waits without using the CPU stops holding a speedup measurement back (grading process).

Every sandboxed call holds ``cpulock.shared`` while it runs, and a speedup
measurement (on 2 CPUs: the whole machine) waits for every holder, keeping
new calls of all other grading behind its turnstile meanwhile. A student's
call that hangs in a deadlock holds on to the end of its time limit (up to a
minute), so the measurement and every other student's calls wait with it:
in a class of 40 on 2 cores, four measurements waited 15-55 s each, the
machine idle.

``IdleWatch`` is ticked by the launcher's event loop. Once a call has run
``LONG_CALL_S`` and its processes used less than ``IDLE_CPU`` of a CPU over
the last ``WINDOW_S``, it releases the call's hold (``cpulock.step_aside``):
a call that sleeps or waits on a lock disturbs no measurement. A call that
computes keeps its hold, as before. If it wakes up and computes later,
a measurement running meanwhile sees a busier machine, which its own
rules already allow for (pairs measured in the same conditions, "not
measurable" rather than a guess).
"""
from __future__ import annotations

import time

from mpgrade_sandboxed import proctree

from mpgrade.sandbox import cpulock

LONG_CALL_S = 3.0
"""Calls shorter than this never step aside (almost every call: the measurement just waits for them)."""
WINDOW_S = 1.0
"""How far back the call's CPU use is judged."""
IDLE_CPU = 0.1
"""At most this share of one CPU over the window counts as waiting, not working."""
SAMPLE_S = 0.25


class IdleWatch:
    """Samples the CPU of the call below ``supervisor_pid``; steps aside once, when the call is long and idle."""

    def __init__(self, supervisor_pid: int, began: float | None = None) -> None:
        self.supervisor_pid = supervisor_pid
        self.began = time.monotonic() if began is None else began
        self.samples: list[tuple[float, int]] = []
        self.next_sample = self.began + LONG_CALL_S - WINDOW_S
        self.stepped_aside = False

    def __call__(self, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        if self.stepped_aside or now < self.next_sample:
            return
        self.next_sample = now + SAMPLE_S
        self.samples.append((now, proctree.subtree_cpu_ticks(self.supervisor_pid)))
        old = [sample for sample in self.samples if now - sample[0] >= WINDOW_S]
        if not old or now - self.began < LONG_CALL_S:
            return
        then, ticks = old[-1]
        self.samples = [sample for sample in self.samples if sample[0] >= then]
        used = (self.samples[-1][1] - ticks) / proctree.TICKS_PER_S
        if used <= IDLE_CPU * (now - then):
            self.stepped_aside = cpulock.step_aside() or True
