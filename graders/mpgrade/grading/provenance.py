"""Where each grade came from, and whether grades from several places may be merged (trusted side).

A grade depends on the graders (the kit's code and its configuration) and,
for a speedup check, on the machine: a 2-CPU laptop and a 32-core node
judge the same Pool differently. Each student's ``status.json`` keeps the
graders' digest, each report's ``environment`` keeps the machine (CPU model,
usable CPUs, CPU quota, Python, start method, kit version). ``merge``
refuses grades from different graders, and flags any student whose speedup
was judged on another kind of machine than most of the class, so an
instructor can regrade them on one kind (``mpgrade grade --only``).
"""
from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

from mpgrade.settings import GRADERS_DIR, KIT_ROOT

UNKNOWN = "unknown"
"""The digest of a grade recorded by a kit that kept none."""


@lru_cache(maxsize=None)
def graders_digest(graders: Path = GRADERS_DIR, config: Path = KIT_ROOT / "pyproject.toml") -> str:
    """A short content hash of every file grading reads: the engine, the sandbox, each exercise's graders
    (hidden ones included) and the pytest configuration. Byte-identical kits give the same digest on any
    machine; any edit to a check changes it."""
    digest = hashlib.sha256()
    files = [path for path in sorted(graders.rglob("*")) if path.is_file() and not _generated(path.relative_to(graders))]
    for path in files:
        digest.update(path.relative_to(graders).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    if config.is_file():
        digest.update(b"pyproject.toml\0" + config.read_bytes())
    return digest.hexdigest()[:16]


def kit_version() -> str:
    """The installed kit's version, or "unknown" where it runs from a folder that was never installed."""
    try:
        from importlib.metadata import version

        return version("mpgrade")
    except Exception:
        return UNKNOWN


def this_machine() -> dict[str, Any]:
    """The machine a batch grades on, for its ``shard.json``: what each report's environment says too,
    plus the host name (which node to look at) and the start method the graders will use."""
    import os
    import platform

    from mpgrade.sandbox.machine import environment
    from mpgrade.settings import DEFAULT_START_METHOD

    return {**environment(), "host": platform.node(), "kit": kit_version(),
            "start_method": os.environ.get("MPGRADE_START_METHOD") or DEFAULT_START_METHOD}


def _generated(relative: Path) -> bool:
    """Files an install or a run writes beside the graders (bytecode, egg-info, dot files): not graders."""
    return relative.suffix in (".pyc", ".pyo") or any(
        part == "__pycache__" or part.endswith(".egg-info") or part.startswith(".") for part in relative.parts)


@dataclass(frozen=True)
class MachineKind:
    """What a speedup verdict depends on: which CPUs, and how many this grading could use."""

    cpu_model: str
    usable_cpus: int
    cpu_budget: float

    def __str__(self) -> str:
        quota = f", quota {self.cpu_budget:g}" if self.cpu_budget != self.usable_cpus else ""
        return f"{self.usable_cpus} CPUs{quota} of {self.cpu_model}"

    @classmethod
    def of(cls, environment: dict[str, Any]) -> "MachineKind":
        usable = int(environment.get("usable_cpus") or 0)
        return cls(str(environment.get("cpu_model") or UNKNOWN), usable,
                   float(environment.get("cpu_budget") or usable))


def speedup_judged(graded: dict[str, Any]) -> bool:
    """Whether any check of this report v1 measured a speedup (its details hold a calibration)."""
    return any("calibration" in (check.get("details") or {})
               for exercise in graded["exercises"].values() for check in exercise["checks"])


def refuse_mixed_graders(digests: Iterable[tuple[str, str, str]]) -> None:
    """Raise ValueError where ``(student, digest, kit version)`` triples name more than one set of graders."""
    by_digest: dict[str, list[str]] = {}
    versions: dict[str, str] = {}
    for student, digest, version in digests:
        by_digest.setdefault(digest, []).append(student)
        versions.setdefault(digest, version)
    if len(by_digest) <= 1:
        return
    parts = [f"graders {digest} (kit {versions[digest]}): {len(ids)} students, e.g. {', '.join(sorted(ids)[:3])}"
             for digest, ids in sorted(by_digest.items(), key=lambda item: -len(item[1]))]
    raise ValueError("these results were graded with different graders, so their grades do not compare: "
                     + "; ".join(parts) + ". Regrade the odd ones with one kit (mpgrade grade --force) "
                     "and merge again")


def machine_flags(kinds: dict[str, MachineKind]) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """For students whose speedup was judged (``id -> kind``): a flag for each one judged on another kind
    of machine than most, and the kinds with their counts (most first)."""
    counts = Counter(kinds.values())
    ranked = sorted(counts.items(), key=lambda item: (-item[1], str(item[0])))
    table = [{"machine": str(kind), "students": n} for kind, n in ranked]
    if len(ranked) <= 1:
        return {}, table
    usual = ranked[0][0]
    flags = {student: f"speedup-on-other-machine:{kind} (most: {usual})"
             for student, kind in kinds.items() if kind != usual}
    return flags, table
