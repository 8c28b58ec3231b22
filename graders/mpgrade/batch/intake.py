"""Finding, unpacking and fingerprinting a class's submissions (trusted side; reads files, runs nothing).

A submissions folder holds one entry per student: a folder (a clone of the
student's repository, e.g. ``assignment-alice/``), a ``.zip`` or a tar
archive. Archives are extracted safely: no member may land outside the
target (``../``, absolute paths), no links or devices, and a cap on the
total unpacked size and member count against zip bombs (the sizes a zip
declares are checked, and so is what is really written). A folder is not
graded in place: its exercise modules are copied (regular files only, never
through a symbolic link, size-capped) into the grading workspace, so a
submission can neither point a module at a file outside it (say, a reference
solution) nor write next to the instructor's copy while it is graded.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import stat
import tarfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from mpgrade.settings import GRADERS_DIR

MAX_UNPACKED_BYTES = 50 * 1024 * 1024
MAX_MEMBERS = 2000
CHUNK = 1024 * 1024


class UnsafeArchive(ValueError):
    """A zip that would write outside its folder, holds links, or unpacks too large."""


@dataclass
class Submission:
    """One student's submission, ready to grade."""

    id: str
    source: Path
    """The folder or zip it came from."""
    exercises: Path | None = None
    """The folder with the exercise modules (``exercises/`` inside the repository, or its root)."""
    problem: str = ""
    """Why it cannot be graded, if it cannot."""
    flags: list[str] = field(default_factory=list)
    """Things an instructor should look at (e.g. modified graders)."""


def _student_ids(names: list[str]) -> dict[str, str]:
    """Strip the prefix every name shares up to a dash (``assignment-alice`` -> ``alice``)."""
    stems = [archive_stem(name) for name in names]
    prefix = os.path.commonprefix(stems)
    prefix = prefix[: prefix.rfind("-") + 1] if "-" in prefix and len(stems) > 1 else ""
    return {name: stem[len(prefix):] or stem for name, stem in zip(names, stems)}


ARCHIVE_SUFFIXES = (".zip", ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz")


def is_archive(path: Path) -> bool:
    return path.is_file() and path.name.lower().endswith(ARCHIVE_SUFFIXES)


def archive_stem(name: str) -> str:
    """``alice.tar.gz`` -> ``alice``."""
    for suffix in ARCHIVE_SUFFIXES:
        if name.lower().endswith(suffix):
            return name[:-len(suffix)]
    return name


def discover(folder: Path) -> list[Path]:
    """The entries of a submissions folder: sub-folders and archives, sorted by name (no symlinks)."""
    return sorted(p for p in folder.iterdir()
                  if not p.name.startswith(".") and not p.is_symlink() and (p.is_dir() or is_archive(p)))


def _inside(target: Path, name: str, archive: Path) -> Path:
    destination = (target / name).resolve()
    if destination != target and target not in destination.parents:
        raise UnsafeArchive(f"{archive.name} would write outside its folder ({name})")
    return destination


def safe_extract(archive: Path, target: Path, max_bytes: int = MAX_UNPACKED_BYTES) -> None:
    """Extract ``archive`` (zip or tar) into ``target``, refusing anything unsafe (see the module docstring)."""
    if not archive.name.lower().endswith(".zip"):
        _extract_tar(archive, target.resolve(), max_bytes)
        return
    target = target.resolve()
    target.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(archive) as zipped:
        members = zipped.infolist()
        if len(members) > MAX_MEMBERS:
            raise UnsafeArchive(f"{archive.name} holds {len(members)} files (at most {MAX_MEMBERS})")
        if sum(m.file_size for m in members) > max_bytes:
            raise UnsafeArchive(f"{archive.name} unpacks to more than {max_bytes // (1024 * 1024)} MB")
        written = 0
        for member in members:
            mode = member.external_attr >> 16
            if stat.S_ISLNK(mode):
                raise UnsafeArchive(f"{archive.name} holds a symbolic link ({member.filename})")
            destination = _inside(target, member.filename, archive)
            if member.is_dir():
                destination.mkdir(parents=True, exist_ok=True)
                continue
            destination.parent.mkdir(parents=True, exist_ok=True)
            with zipped.open(member) as source, open(destination, "wb") as sink:
                while chunk := source.read(CHUNK):
                    written += len(chunk)
                    if written > max_bytes:  # the declared sizes can lie
                        raise UnsafeArchive(f"{archive.name} unpacks to more than {max_bytes // (1024 * 1024)} MB")
                    sink.write(chunk)


def _extract_tar(archive: Path, target: Path, max_bytes: int) -> None:
    target.mkdir(parents=True, exist_ok=True)
    try:
        tarred = tarfile.open(archive)
    except tarfile.TarError as problem:
        raise UnsafeArchive(f"{archive.name} is not a readable archive ({problem})") from None
    with tarred:
        members = []
        for member in tarred:  # headers are read one by one; stop early on a bomb
            members.append(member)
            if len(members) > MAX_MEMBERS:
                raise UnsafeArchive(f"{archive.name} holds more than {MAX_MEMBERS} files")
            if not (member.isfile() or member.isdir()):
                raise UnsafeArchive(f"{archive.name} holds a link or special file ({member.name})")
            _inside(target, member.name, archive)
        if sum(m.size for m in members) > max_bytes:
            raise UnsafeArchive(f"{archive.name} unpacks to more than {max_bytes // (1024 * 1024)} MB")
        if hasattr(tarfile, "data_filter"):  # 3.12, and security releases of 3.10 and 3.11
            tarred.extractall(target, members=members, filter="data")
        else:  # pragma: no cover - old patch releases; every member was checked above
            tarred.extractall(target, members=members)


MAX_MODULE_BYTES = 5 * 1024 * 1024


def copy_exercises(source: Path, target: Path) -> None:
    """Copy the exercise modules of ``source`` into ``target``: regular files only, never through a link."""
    target.mkdir(parents=True, exist_ok=True)
    for path in sorted(source.iterdir()):
        if path.name.startswith(".") or path.name == "__pycache__":
            continue
        if path.is_symlink():
            raise UnsafeArchive(f"{path.name} is a symbolic link (to {os.readlink(path)}); submit the file itself")
        if not path.is_file() or path.suffix != ".py":
            continue
        if path.stat().st_size > MAX_MODULE_BYTES:
            raise UnsafeArchive(f"{path.name} is larger than {MAX_MODULE_BYTES // (1024 * 1024)} MB")
        with open(path, "rb") as source_file, open(target / path.name, "xb") as sink:  # O_EXCL: never through a link
            shutil.copyfileobj(source_file, sink)


def exercises_folder(root: Path) -> Path:
    """Where the exercise modules of a repository (or an unpacked zip of one) are."""
    inner = [p for p in root.iterdir() if p.is_dir() and not p.name.startswith((".", "__"))]
    if not (root / "exercises").is_dir() and not list(root.glob("ex*.py")) and len(inner) == 1:
        root = inner[0]  # a zip of the repository folder itself
    return root / "exercises" if (root / "exercises").is_dir() else root


def grader_tampering(repository: Path) -> list[str]:
    """Grader files in the student's repository that differ from the official ones."""
    theirs = repository / "graders"
    if not theirs.is_dir():
        return []
    changed = []
    for official in sorted(GRADERS_DIR.rglob("*.py")):
        relative = official.relative_to(GRADERS_DIR)
        copy = theirs / relative
        if "__pycache__" in relative.parts:
            continue
        if copy.is_symlink() or (copy.is_file() and (copy.stat().st_size > MAX_MODULE_BYTES
                                                      or copy.read_bytes() != official.read_bytes())):
            changed.append(str(relative))
    return changed


def prepare(folder: Path, workspace: Path) -> list[Submission]:
    """Every student in ``folder``; zips are unpacked into ``workspace``. Never raises for one bad entry."""
    entries = discover(folder)
    ids = _student_ids([entry.name for entry in entries])
    students = []
    for entry in entries:
        student = Submission(id=ids[entry.name], source=entry)
        root = entry
        try:
            if is_archive(entry):
                root = workspace / "unpacked" / student.id
                shutil.rmtree(root, ignore_errors=True)
                safe_extract(entry, root)
            found = exercises_folder(root)
            changed = grader_tampering(root if (root / "graders").is_dir() else found.parent)
            if changed:
                student.flags.append("graders-modified:" + "|".join(changed))
            student.exercises = workspace / "graded" / student.id / "exercises"
            shutil.rmtree(student.exercises.parent, ignore_errors=True)
            copy_exercises(found, student.exercises)
        except (UnsafeArchive, zipfile.BadZipFile, OSError) as problem:
            student.problem = f"not gradable: {problem}"
        students.append(student)
    return students


def fingerprint(folder: Path) -> str:
    """A content hash of the exercise modules (what grading depends on)."""
    digest = hashlib.sha256()
    for path in sorted(folder.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()
