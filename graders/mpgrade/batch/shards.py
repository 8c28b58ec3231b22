"""Which slice of a class this grading process grades (trusted side; reads the environment, runs nothing).

A shard is the ``index``-th of ``count`` deterministic slices (students sorted
by id, every ``count``-th from the ``index``-th). It comes from ``--shard I/N``,
or from the scheduler that started this process:

    Slurm job array      SLURM_ARRAY_TASK_ID, _MIN, _STEP, _MAX, _COUNT   (sbatch --array=1-4, 0-3, 1-7:2)
    Kubernetes           JOB_COMPLETION_INDEX (0-based) and MPGRADE_SHARD_COUNT   (an Indexed Job)
    GitHub Actions       MPGRADE_SHARD_INDEX (0-based) and MPGRADE_SHARD_COUNT, set from
                         ${{ strategy.job-index }} and ${{ strategy.job-total }} (Actions exports no variable)

Every shard writes ``RESULTS/shard.json`` (:class:`ShardRecord`): which
slice, of which class, graded by which graders. A re-run into the same
folder must grade the same slice of the same class (a single re-submitted
array task would otherwise read itself as shard 1/1), and ``merge`` uses the
records to say which students no shard graded.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

RECORD = "shard.json"


@dataclass(frozen=True)
class Shard:
    """A deterministic slice of the class: the ``index``-th of ``count`` (1-based)."""

    index: int
    count: int
    origin: str = field(default="--shard", compare=False)
    """Where the numbers came from, for messages (``--shard``, or the scheduler's variables)."""

    def __post_init__(self) -> None:
        if not 1 <= self.index <= self.count:
            raise ValueError(f"shard {self.index}/{self.count} (from {self.origin}): I must be between 1 and N")

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    @classmethod
    def parse(cls, text: str, origin: str = "--shard") -> "Shard":
        try:
            index, count = (int(part) for part in text.split("/"))
        except ValueError:
            raise ValueError(f"--shard wants I/N (like 2/4), auto or all; got {text!r}") from None
        return cls(index, count, origin)

    def pick(self, ids: Sequence[str]) -> list[str]:
        """This slice of ``ids``."""
        return sorted(ids)[self.index - 1::self.count]


def _int(environ: Mapping[str, str], name: str) -> int:
    raw = environ.get(name, "")
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"{name}={raw!r} is not a whole number") from None


def _slurm(environ: Mapping[str, str]) -> Shard:
    """A Slurm array task's slice: arrays 1-N, 0-(N-1) and evenly stepped ranges map onto 1..N."""
    task, count = _int(environ, "SLURM_ARRAY_TASK_ID"), _int(environ, "SLURM_ARRAY_TASK_COUNT")
    low = _int(environ, "SLURM_ARRAY_TASK_MIN") if "SLURM_ARRAY_TASK_MIN" in environ else 1
    step = _int(environ, "SLURM_ARRAY_TASK_STEP") if "SLURM_ARRAY_TASK_STEP" in environ else 1
    high = _int(environ, "SLURM_ARRAY_TASK_MAX") if "SLURM_ARRAY_TASK_MAX" in environ else low + step * (count - 1)
    origin = f"SLURM_ARRAY_TASK_ID={task} of an array {low}-{high}:{step} with {count} tasks"
    if step < 1 or (high - low) % step or (high - low) // step + 1 != count or (task - low) % step:
        raise ValueError(f"{origin} is not an evenly stepped range, so its tasks do not number the shards "
                         "1..N: submit with --array=1-N (or 0-(N-1)), or give --shard I/N yourself")
    return Shard((task - low) // step + 1, count, origin)


def _zero_based(environ: Mapping[str, str], index_name: str) -> Shard:
    if "MPGRADE_SHARD_COUNT" not in environ:
        raise ValueError(f"{index_name} is set but MPGRADE_SHARD_COUNT is not: set it to the number of shards "
                         "(the Job's completions, the matrix's strategy.job-total)")
    index, count = _int(environ, index_name), _int(environ, "MPGRADE_SHARD_COUNT")
    return Shard(index + 1, count, f"{index_name}={index} (0-based) of MPGRADE_SHARD_COUNT={count}")


def from_scheduler(environ: Mapping[str, str]) -> Shard | None:
    """The shard the scheduler's variables name, or None where none are set.

    Raises ValueError, naming the variables, where they are set but do not
    name one shard of a class.
    """
    if "MPGRADE_SHARD_INDEX" in environ:  # ours, set on purpose: it outranks whatever scheduler runs us
        return _zero_based(environ, "MPGRADE_SHARD_INDEX")
    if "SLURM_ARRAY_TASK_ID" in environ:
        return _slurm(environ)
    if "JOB_COMPLETION_INDEX" in environ:
        return _zero_based(environ, "JOB_COMPLETION_INDEX")
    return None


def resolve(option: str | None, environ: Mapping[str, str]) -> Shard | None:
    """The shard to grade: ``--shard I/N``; ``auto`` (the scheduler's, required); ``all`` (the whole class,
    whatever the scheduler says); no option (the scheduler's where its variables are set, else the whole class)."""
    if option == "all":
        return None
    if option in (None, "", "auto"):
        shard = from_scheduler(environ)
        if shard is None and option == "auto":
            raise ValueError("--shard auto: no scheduler variables are set (SLURM_ARRAY_TASK_ID, "
                             "JOB_COMPLETION_INDEX or MPGRADE_SHARD_INDEX, each with its count)")
        return shard
    return Shard.parse(option)


@dataclass
class ShardRecord:
    """``RESULTS/shard.json``: what one results folder is a slice of."""

    shard: str | None
    """``I/N``, or None for the whole class."""
    students: list[str]
    """Every student id in the class (the submissions folder), not only this slice."""
    graders: str
    """The graders' digest (``provenance.graders_digest``) of the last run into this folder."""
    origin: str = ""
    """Where the shard numbers came from."""
    machine: dict = field(default_factory=dict)
    """The machine of the last run into this folder (``provenance.this_machine``): CPU model, usable CPUs,
    CPU limits (cgroup quota), Python, start method, kit version, host. Each student's report keeps its own."""

    def write(self, results: Path) -> None:
        from mpgrade.grading.report import write_text

        write_text(results / RECORD, json.dumps(asdict(self), indent=2) + "\n")

    @classmethod
    def read(cls, results: Path) -> "ShardRecord | None":
        """The folder's record, or None where it has none (graded by an older kit)."""
        try:
            data = json.loads((results / RECORD).read_text(encoding="utf-8"))
            return cls(shard=data["shard"], students=list(data["students"]), graders=data["graders"],
                       origin=data.get("origin", ""), machine=dict(data.get("machine") or {}))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as problem:
            raise ValueError(f"{results / RECORD} is unreadable ({problem})") from None


def check_resume(results: Path, shard: Shard | None, students: list[str]) -> None:
    """Refuse to grade into a folder that holds another slice, or a slice of another class.

    A folder is resumed only by the run that began it: the same slice of the
    same students. Anything else would mix two shardings in one folder, and
    ``merge`` could then grade a student twice or not at all.
    """
    previous = ShardRecord.read(results)
    if previous is None:
        return
    now = str(shard) if shard else None
    if previous.shard != now:
        held = f"shard {previous.shard}" if previous.shard else "the whole class"
        wanted = f"shard {now} (from {shard.origin})" if shard else "the whole class"
        hint = (f"give --shard {previous.shard} to resume it" if previous.shard
                else "give --shard all to resume it")
        raise ValueError(f"{results} holds {held}; this run would grade {wanted}. A single re-submitted array "
                         f"task numbers itself 1/1: {hint}, or grade into a new --out folder")
    if shard is not None and sorted(previous.students) != sorted(students):
        new = sorted(set(students) - set(previous.students))
        gone = sorted(set(previous.students) - set(students))
        raise ValueError(f"{results} holds shard {previous.shard} of another class (new: {', '.join(new) or '-'}; "
                         f"gone: {', '.join(gone) or '-'}): every shard's slice has changed, so grade all the "
                         "shards again into new folders (or the whole class without --shard)")


def missing_students(result_dirs: list[Path], found: set[str], whole_class: bool) -> dict[str, str]:
    """Students the folders' ``shard.json`` say should be graded and are not (``found`` are), with the reason.

    Raises ValueError for folders that are not slices of one split of one
    class, or that hold a shard twice.

    ``whole_class``: every student of the class is expected (a merge); else only
    the slices these folders hold (one shard's own gradebook).
    """
    records = {folder: ShardRecord.read(folder) for folder in result_dirs}
    known = {folder: record for folder, record in records.items() if record is not None}
    if not known:
        return {}  # folders from a kit that kept no record: nothing to compare with
    sharded = {folder: record for folder, record in known.items() if record.shard}
    splits = {Shard.parse(record.shard).count for record in sharded.values()}
    if len(splits) > 1 or (sharded and len(sharded) != len(known)):
        described = ", ".join(f"{folder} holds {('shard ' + record.shard) if record.shard else 'the whole class'}"
                              for folder, record in known.items())
        raise ValueError(f"these folders are slices of different splits of the class ({described}): "
                         "merge the shards of one split")
    if len({tuple(record.students) for record in known.values()}) > 1:
        raise ValueError("these folders are slices of different classes (their submissions folders held "
                         "different students): merge shards graded from one submissions folder")
    seen: dict[str, Path] = {}
    for folder, record in sharded.items():
        if record.shard in seen:
            raise ValueError(f"shard {record.shard} is given twice: {seen[record.shard]} and {folder}")
        seen[record.shard] = folder
    students = next(iter(known.values())).students
    count = splits.pop() if splits else 1
    missing = {}
    for index in range(1, count + 1):
        label = f"{index}/{count}"
        for student in Shard(index, count).pick(students):
            if student in found:
                continue
            if count == 1:
                missing[student] = ("not graded yet (a run that did not finish, or one with --only): "
                                    "run mpgrade grade again to grade the rest")
            elif label in seen:
                missing[student] = (f"not graded: shard {label} ({seen[label]}) did not finish; "
                                    f"run shard {label} again to resume it")
            elif whole_class:
                missing[student] = f"not graded: shard {label} was not merged"
    return missing
