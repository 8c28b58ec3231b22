"""Facts about the machine that grading depends on (trusted side).

The one place that decides how many CPUs grading may count on.
"""
from __future__ import annotations

import os
import platform
import sys


def usable_cpus() -> int:
    """CPUs this process may run on (affinity where the OS exposes it)."""
    override = os.environ.get("MPGRADE_CPUS")
    if override and override.isdigit() and int(override) > 0:
        return int(override)
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def environment() -> dict[str, object]:
    """The machine part of a report's ``environment``."""
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": sys.platform,
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "usable_cpus": usable_cpus(),
    }
