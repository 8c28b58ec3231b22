"""Whole points for platforms that take only integers (Classroom 50, Canvas), from a report v1.

A check's partial credit (2.63 of 3 for a speedup) cannot be stored as it is
where a platform requires integers. Rounding each check on its own could
move the total (three checks of 0.5 each round to 0 or to 3); instead the
exercise's total is rounded once, half up, and its whole points are shared
out over the checks by largest remainder, so every check keeps its floor or
gets one more, never more than its maximum, and the checks add up to the
exercise's rounded total. Checks worth a whole number of points keep it.
"""
from __future__ import annotations

import math
from typing import Any


def round_half_up(value: float) -> int:
    """``round`` to the nearest integer, 0.5 always up (Python's ``round`` goes to even)."""
    return int(math.floor(value + 0.5 + 1e-9))


def whole_points(checks: list[dict[str, Any]]) -> list[int]:
    """Integer scores for ``checks`` (report v1 check dicts) that add up to their rounded total."""
    exact = [max(0.0, min(float(c["score"]), float(c["max_score"]))) for c in checks]
    floors = [math.floor(value + 1e-9) for value in exact]
    target = round_half_up(sum(exact))
    spare = target - sum(floors)
    by_remainder = sorted(range(len(checks)), key=lambda i: (-(exact[i] - floors[i]), i))
    for index in by_remainder:
        if spare <= 0:
            break
        if floors[index] < int(math.floor(float(checks[index]["max_score"]) + 1e-9)) and exact[index] > floors[index]:
            floors[index] += 1
            spare -= 1
    return floors


def max_points(check: dict[str, Any]) -> int:
    """A check's maximum as an integer (graders declare whole points; a fraction is rounded half up)."""
    return round_half_up(float(check["max_score"]))
