"""Batch grading: intake (zips, ids, tampering), isolation, resume, --only, shard plus merge."""
from __future__ import annotations

import csv
import io
import json
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import KIT_ROOT, SUBMISSIONS
from mpgrade.batch.grade import default_workers, grade_class, write_gradebook
from mpgrade.batch.intake import UnsafeArchive, grader_tampering, prepare, safe_extract


def repository(root: Path, exercise_source: Path) -> Path:
    """A student's repository as GitHub would export it: exercises/ (and graders/)."""
    (root / "exercises").mkdir(parents=True)
    shutil.copy(exercise_source, root / "exercises" / "ex01_processes.py")
    return root


def test_zip_with_parent_paths_is_refused(tmp_path):
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("exercises/ex01_processes.py", "x = 1\n")
        zipped.writestr("../escape.py", "print('escaped')\n")
    with pytest.raises(UnsafeArchive, match="outside its folder"):
        safe_extract(archive, tmp_path / "out")
    assert not (tmp_path / "escape.py").exists()


def test_zip_with_a_symlink_is_refused(tmp_path):
    archive = tmp_path / "link.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        info = zipfile.ZipInfo("exercises/ex01_processes.py")
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        zipped.writestr(info, "/etc/passwd")
    with pytest.raises(UnsafeArchive, match="symbolic link"):
        safe_extract(archive, tmp_path / "out")


def test_zip_bomb_is_refused_before_writing_it(tmp_path):
    archive = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zipped:
        zipped.writestr("exercises/big.txt", b"\0" * (60 * 1024 * 1024))
    assert archive.stat().st_size < 1024 * 1024
    with pytest.raises(UnsafeArchive, match="more than 50 MB"):
        safe_extract(archive, tmp_path / "out")
    assert not (tmp_path / "out" / "exercises" / "big.txt").exists()


def test_zip_with_a_forged_size_is_refused(tmp_path):
    archive = tmp_path / "forged.zip"
    payload = b"\0" * (60 * 1024 * 1024)
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zipped:
        zipped.writestr("exercises/big.txt", payload)
    data = bytearray(archive.read_bytes())
    size = len(payload).to_bytes(4, "little")
    forged = (1000).to_bytes(4, "little")
    assert data.count(size) == 2  # local header and central directory
    archive.write_bytes(bytes(data).replace(size, forged))
    with pytest.raises((UnsafeArchive, zipfile.BadZipFile)):
        safe_extract(archive, tmp_path / "out")
    written = tmp_path / "out" / "exercises" / "big.txt"
    assert not written.exists() or written.stat().st_size <= 50 * 1024 * 1024


def test_intake_names_students_unpacks_zips_and_flags_modified_graders(tmp_path):
    submissions = tmp_path / "class"
    repository(submissions / "assignment-alice", KIT_ROOT / "solutions" / "ex01_processes.py")
    bob = repository(submissions / "assignment-bob", KIT_ROOT / "exercises" / "ex01_processes.py")
    shutil.copytree(KIT_ROOT / "graders", bob / "graders", ignore=shutil.ignore_patterns("__pycache__"))
    with open(bob / "graders" / "test_ex01_processes.py", "a") as handle:
        handle.write("\n# every check passes now\n")
    with zipfile.ZipFile(submissions / "assignment-carol.zip", "w") as zipped:
        zipped.write(KIT_ROOT / "solutions" / "ex01_processes.py", "assignment-carol/exercises/ex01_processes.py")
    students = {s.id: s for s in prepare(submissions, tmp_path / "work")}
    assert sorted(students) == ["alice", "bob", "carol"]
    assert students["bob"].flags == ["graders-modified:test_ex01_processes.py"]
    assert students["alice"].flags == [] and students["carol"].flags == []
    assert (students["carol"].exercises / "ex01_processes.py").is_file()
    assert grader_tampering(KIT_ROOT) == []


@pytest.mark.parametrize("cpus, available_mb, workers", [
    (2, 24_000, 3),   # one more than the CPUs: a waiting student leaves no CPU idle
    (16, 24_000, 17),
    (4, 2_000, 2),    # 2 GB free: half of it, 400 MB a grading
    (2, 300, 1),      # never none
])
def test_default_workers_are_one_more_than_the_cpus_as_memory_allows(cpus, available_mb, workers):
    assert default_workers(cpus, available_mb) == workers


def _gradebook(folder: Path) -> list[dict]:
    return list(csv.DictReader(io.StringIO((folder / "gradebook.csv").read_text())))


@pytest.fixture
def small_class(tmp_path):
    """alice: the solution; bob: the stub; dave: hangs at import (a bounded loop); erin: a zip with ../ paths."""
    submissions = tmp_path / "class"
    repository(submissions / "assignment-alice", KIT_ROOT / "solutions" / "ex01_processes.py")
    repository(submissions / "assignment-bob", KIT_ROOT / "exercises" / "ex01_processes.py")
    repository(submissions / "assignment-dave", SUBMISSIONS / "import_loops_forever" / "ex01_processes.py")
    with zipfile.ZipFile(submissions / "assignment-erin.zip", "w") as zipped:
        zipped.writestr("../../escape.py", "x = 1\n")
    return submissions


def test_a_class_is_graded_in_isolation_resumed_and_regraded_by_name(small_class, tmp_path, leftovers,
                                                                     monkeypatch):
    # A 30 s budget per student: alice's ex01 takes ~5 s alone, up to ~20 s beside the rest of the suite;
    # dave's import hang must outlast it (a 40 s import limit), so the budget is what stops him.
    monkeypatch.setenv("MPGRADE_TIMEOUT_FACTOR", "2")
    results = tmp_path / "results"
    summary = grade_class(small_class, results, workers=2, exercises=["ex01"], budget_s=30)
    rows = {row["id"]: row for row in _gradebook(results)}
    assert rows["alice"]["total"] == "10" and rows["alice"]["status"] == "graded"
    assert rows["bob"]["total"] == "0" and rows["bob"]["status"] == "graded"
    assert rows["dave"]["status"] == "error" and "did not finish within 30 s" in rows["dave"]["flags"]
    assert rows["erin"]["status"] == "error" and "outside its folder" in rows["erin"]["flags"]
    assert summary["graded"] == 2 and summary["errors"] == 2
    assert summary["pass_rates"] == {"ex01_processes": 0.5}
    assert "Your TODO there" in (results / "students" / "bob" / "feedback.md").read_text()
    assert json.loads((results / "students" / "alice" / "report.json").read_text())["score"] == 10
    assert leftovers() == []

    # Unchanged submissions are kept, not regraded. (dave leaves the class first: a student in error is graded
    # again on every run, and his hang would only cost its 30 s budget once more.)
    shutil.rmtree(small_class / "assignment-dave")
    before = (results / "students" / "alice" / "status.json").stat().st_mtime_ns
    grade_class(small_class, results, workers=2, exercises=["ex01"], budget_s=30)
    assert (results / "students" / "alice" / "status.json").stat().st_mtime_ns == before

    # A changed submission is regraded; --only regrades a student by name even if unchanged.
    shutil.copy(KIT_ROOT / "solutions" / "ex01_processes.py", small_class / "assignment-bob" / "exercises")
    grade_class(small_class, results, workers=2, only=["bob"], exercises=["ex01"], budget_s=30)
    assert {row["id"]: row["total"] for row in _gradebook(results)}["bob"] == "10"
    assert (results / "students" / "alice" / "status.json").stat().st_mtime_ns == before


def test_shards_then_merge_give_the_unsharded_gradebook(small_class, tmp_path):
    (small_class / "assignment-erin.zip").unlink()
    shutil.rmtree(small_class / "assignment-dave")
    whole = tmp_path / "whole"
    grade_class(small_class, whole, exercises=["ex01"])
    shards = [tmp_path / f"shard{i}" for i in (1, 2)]
    for index, folder in enumerate(shards, start=1):  # relative paths, from the class's parent folder
        done = subprocess.run([sys.executable, "-m", "mpgrade", "grade", small_class.name, "--out", folder.name,
                               "--shard", f"{index}/2", "--exercises", "ex01"], capture_output=True, text=True,
                              cwd=tmp_path)
        assert done.returncode == 0, done.stderr
    graded = [p.name for folder in shards for p in (folder / "students").iterdir()]
    assert sorted(graded) == ["alice", "bob"]  # each student exactly once
    merged = tmp_path / "merged"
    roster = tmp_path / "canvas-export.csv"  # a Canvas gradebook export holds alice (by her login), not bob
    roster.write_text("Student,ID,SIS User ID,SIS Login ID,Section,Quiz 1 (11)\n"
                      "    Points Possible,,,,,5\n"
                      "\"Liddell, Alice\",90817,S-1001,alice@school.edu,CS 101 A,4\n")
    done = subprocess.run([sys.executable, "-m", "mpgrade", "merge", *map(str, shards), "--out", str(merged),
                           "--canvas-roster", str(roster), "--canvas-assignment", "Multiprocessing (4242)"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "2 students: 2 graded" in done.stdout and "not in the Canvas roster (canvas.csv names them by id): bob" \
        in done.stdout
    assert (merged / "gradebook.csv").read_text() == (whole / "gradebook.csv").read_text()
    canvas = list(csv.reader(io.StringIO((merged / "canvas.csv").read_text())))
    assert canvas[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Multiprocessing (4242)"]
    assert canvas[1][0].strip() == "Points Possible" and canvas[1][-1] == "10"
    assert canvas[2:] == [["Liddell, Alice", "90817", "S-1001", "alice@school.edu", "CS 101 A", "10"],
                          ["bob", "", "", "bob", "", "0"]]
    with pytest.raises(ValueError, match="more than one results folder"):
        write_gradebook([whole, shards[0]], tmp_path / "twice")


def test_a_grading_process_killed_outright_leaves_nothing_running(tmp_path, leftovers):
    """SIGKILL (the OOM killer, a scheduler) gives no chance to clean up: the pytest child follows its parent
    by the parent-death signal, and the sandbox calls follow the pytest child."""
    import os
    import signal
    import time

    import psutil

    submissions = tmp_path / "class"
    repository(submissions / "course-dave", SUBMISSIONS / "import_loops_forever" / "ex01_processes.py")
    repository(submissions / "course-erin", SUBMISSIONS / "import_loops_forever" / "ex01_processes.py")
    before, began = set(psutil.pids()), time.time()
    grading = subprocess.Popen([sys.executable, "-m", "mpgrade", "grade", str(submissions), "--out",
                                str(tmp_path / "results"), "--exercises", "ex01", "--workers", "1"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def ours() -> list[psutil.Process]:
        """Processes this grading started: marked, or the kit's (the template and its forks carry an empty
        environment but the template's command line), and new since the test began: never anyone else's."""
        found = []
        for proc in psutil.process_iter():
            try:
                if (proc.pid in before or proc.pid == grading.pid or proc.create_time() < began - 1
                        or proc.status() == psutil.STATUS_ZOMBIE):
                    continue
                environ, command = proc.environ(), " ".join(proc.cmdline())
                if (environ.get("LEFTOVER_MARK") == os.environ["LEFTOVER_MARK"] or "MPGRADE_CALL" in environ
                        or "mpgrade" in command):
                    found.append(proc)
            except psutil.Error:
                continue
        return found

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not any(
            "sandbox" in " ".join(p.cmdline()) or p.name() == "bwrap" for p in ours() if p.is_running()):
        time.sleep(0.2)  # until the sandbox is up (the template starts with the first call)...
    time.sleep(1.0)  # ...and a call of dave's (his import loops for minutes) is under way
    assert any("sandbox" in " ".join(p.cmdline()) for p in ours()), "no sandboxed call started"
    grading.send_signal(signal.SIGKILL)
    grading.wait()
    deadline = time.monotonic() + 15
    while ours() and time.monotonic() < deadline:
        time.sleep(0.2)
    left = [" ".join(p.cmdline())[:120] for p in ours()]
    for proc in ours():
        proc.kill()
    assert left == [] and leftovers() == []
