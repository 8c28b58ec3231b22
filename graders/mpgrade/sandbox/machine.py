"""Facts about the machine that grading depends on (trusted side).

The one place that decides how many CPUs grading may count on: the minimum
of the scheduler affinity, the cgroup CPU quota (v2 ``cpu.max``, v1
``cpu.cfs_quota_us``/``cpu.cfs_period_us``), ``os.process_cpu_count()`` /
``PYTHON_CPU_COUNT`` where Python has them, and the ``MPGRADE_CPUS``
override. No standard-library call reads the cgroup quota, and hosted
graders often give less than one CPU (Gradescope: half a vCPU by default).
"""
from __future__ import annotations

import math
import os
import platform
import sys
from dataclasses import dataclass, field
from pathlib import Path

from mpgrade_sandboxed import cgroups

CGROUP_ROOT = Path(cgroups.CGROUP_ROOT)


@dataclass(frozen=True)
class CpuBudget:
    """How much CPU this process may use, and who says so."""

    cpus: float
    """The smallest of the limits below (may be fractional, e.g. 0.5 under a quota)."""
    sources: dict = field(default_factory=dict)
    """Each limit found, by name: affinity, cgroup_v2, cgroup_v1, process_cpu_count, PYTHON_CPU_COUNT, MPGRADE_CPUS."""

    @property
    def usable(self) -> int:
        """Whole CPUs that can run processes at the same time (at least 1)."""
        return max(1, math.floor(self.cpus + 1e-9))


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None


def cgroup_v2_quota(root: Path = CGROUP_ROOT) -> float | None:
    """CPUs allowed by ``cpu.max`` ("max 100000" means no limit), or None."""
    text = _read(root / "cpu.max")
    if not text:
        return None
    parts = text.split()
    if len(parts) != 2 or parts[0] == "max":
        return None
    try:
        quota, period = int(parts[0]), int(parts[1])
    except ValueError:
        return None
    return quota / period if quota > 0 and period > 0 else None


def cgroup_v1_quota(root: Path = CGROUP_ROOT) -> float | None:
    """CPUs allowed by ``cpu.cfs_quota_us`` / ``cpu.cfs_period_us`` (-1 means no limit), or None."""
    for folder in (root / "cpu", root / "cpu,cpuacct", root):
        quota, period = _read(folder / "cpu.cfs_quota_us"), _read(folder / "cpu.cfs_period_us")
        if quota is None or period is None:
            continue
        try:
            q, p = int(quota), int(period)
        except ValueError:
            return None
        return q / p if q > 0 and p > 0 else None
    return None


def cpu_budget(environ: dict[str, str] | None = None, cgroup_root: Path = CGROUP_ROOT) -> CpuBudget:
    """Every CPU limit that applies to this process, and their minimum."""
    environ = os.environ if environ is None else environ
    sources: dict[str, float] = {}
    try:
        sources["affinity"] = float(len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        sources["cpu_count"] = float(os.cpu_count() or 1)
    for name, reader in (("cgroup_v2", cgroup_v2_quota), ("cgroup_v1", cgroup_v1_quota)):
        value = reader(cgroup_root)
        if value is not None:
            sources[name] = round(value, 3)
    process_cpu_count = getattr(os, "process_cpu_count", None)
    if process_cpu_count is not None:
        count = process_cpu_count()
        if count:
            sources["process_cpu_count"] = float(count)
    for name in ("PYTHON_CPU_COUNT", "MPGRADE_CPUS"):
        raw = environ.get(name, "")
        try:
            value = float(raw)
        except ValueError:
            continue
        if value > 0:
            sources[name] = value
    if "MPGRADE_CPUS" in sources:  # an explicit override wins, even upwards
        return CpuBudget(sources["MPGRADE_CPUS"], sources)
    return CpuBudget(min(sources.values()), sources)


def usable_cpus() -> int:
    """Whole CPUs grading may count on (see :func:`cpu_budget`)."""
    return cpu_budget().usable


def cpu_model(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    """The CPU's model name: what a speedup verdict was measured on (merge compares it across shards)."""
    text = _read(cpuinfo) or ""
    for key in ("model name", "Model", "cpu model", "Hardware"):  # x86; arm64 boards; MIPS; older arm
        for line in text.splitlines():
            name, _, value = line.partition(":")
            if name.strip() == key and value.strip():
                return " ".join(value.split())
    if sys.platform == "darwin":
        import subprocess

        try:
            found = subprocess.run(["sysctl", "-n", "machdep.cpu.brand_string"], capture_output=True,
                                   text=True, timeout=5).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            found = ""
        if found:
            return found
    return platform.processor() or platform.machine() or "unknown"


def environment() -> dict[str, object]:
    """The machine part of a report's ``environment``."""
    budget = cpu_budget()
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": sys.platform,
        "machine": platform.machine(),
        "cpu_model": cpu_model(),
        "cpu_count": os.cpu_count(),
        "usable_cpus": budget.usable,
        "cpu_budget": budget.cpus,
        "cpu_limits": budget.sources,
    }
