"""The hostile battery: broken and malicious submissions, what grading each must come to, and a runner.

Used by ``tests/test_hostile.py`` (one test per case) and ``benchmarks/hostile.py``
(the whole battery as a table). Each case is a folder next to this file; it
is copied to a scratch folder before grading, so whatever it writes "near
itself" lands there. Every process the case starts carries an environment
mark, so the processes it left alive can be found (and are killed after
counting); ``/dev/shm`` is compared before and after.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import psutil

HERE = Path(__file__).resolve().parent
MARK = "MPGRADE_BATTERY_MARK"


@dataclass(frozen=True)
class Case:
    """One hostile submission and the verdict grading must reach."""

    name: str
    exercise: str
    check: str
    """The grader check to run (a test function of the exercise's grader), or "*" for the whole exercise."""
    expect: str
    """"failed", "passed" or "not gradable"."""
    says: tuple[str, ...] = ()
    """Words the feedback must contain (the cause, named for the student); "a|b" accepts either."""
    via: str = "check"
    """"check": one grader check in this process; "cli": ``mpgrade check`` as a user runs it; "batch"."""
    timeout_factor: float = 1.0
    linger_s: float = 0.0
    """Wait this long before counting leftovers (a daemon that would act later)."""
    must_not_exist: tuple[str, ...] = ()
    """Files (relative to the scratch folder) that must not exist afterwards."""
    fails: tuple[str, ...] = ()
    """For a whole exercise ("*", via "cli"): checks (test function names) that must fail, each saying ``says``."""
    passes: tuple[str, ...] = ()
    """... and checks that must still pass (the forgery costs only the checks resting on it)."""
    needs_landlock: bool = False
    """Refused only by confinement (``run_confined``): graded with Landlock on, skipped where it is not available."""
    max_written_mb: int | None = None
    """The call's write limit for this case (bounded: the case writes a few times this, never the disk)."""


EX01 = "test_exit_codes_in_order"
TAMPERED = "did not match what the kit observed"
EX01_EVIDENCE = (EX01, "test_each_call_in_its_own_process", "test_processes_run_at_the_same_time")
EX01_OTHERS = ("test_square_worker_is_a_process", "test_square_worker_puts_squares")
CASES = (
    Case("fork_bomb", "ex01_processes", EX01, "failed", ("processes alive at once",)),
    Case("import_busy_loop", "ex01_processes", EX01, "failed", ("Importing ex01_processes.py did not finish",),
         timeout_factor=0.25),
    Case("worker_busy_loop", "ex01_processes", EX01, "failed", ("did not finish within 5 s",), timeout_factor=0.25),
    Case("pool_without_guard", "ex02_pool", "test_main_guard", "failed", ("__main__",)),
    Case("pool_workers_die_of_cpu_limit", "ex01_processes", EX01, "failed",
         ("killed by signal", "CPU time"), timeout_factor=0.25),
    Case("memory_bomb_20gb", "ex01_processes", EX01, "failed", ("MemoryError", "ex01_processes.py:5")),
    Case("memory_growth", "ex01_processes", EX01, "failed", ("MB of memory",)),
    Case("print_flood_100mb", "ex01_processes", EX01, "passed"),
    Case("setsid_daemon", "ex01_processes", EX01, "passed", linger_s=3.0,
         must_not_exist=("submission/daemon-was-here.json", "report.json")),
    Case("shm_and_semaphore_left", "ex01_processes", EX01, "passed"),
    Case("os_exit_at_import", "ex01_processes", EX01, "failed", ("exited with code 0",)),
    Case("sys_exit_at_import", "ex01_processes", EX01, "failed", ("SystemExit", "exits while it is being imported")),
    Case("fake_reports", "ex01_processes", "*", "failed", ("private result channel",), via="cli"),
    Case("shipped_config_and_shadows", "ex01_processes", "*", "failed", ("NotImplementedError",), via="cli",
         must_not_exist=("submission/sitecustomize-ran.txt",)),
    # Forged evidence: each is graded zero on the checks resting on it, as tampering.
    Case("forged_task_records", "ex01_processes", "*", "failed", (TAMPERED,), via="cli", fails=EX01_EVIDENCE,
         passes=EX01_OTHERS),
    Case("forged_intervals", "ex01_processes", "*", "failed", (TAMPERED,), via="cli", fails=EX01_EVIDENCE,
         passes=EX01_OTHERS),
    Case("inflated_child_cpu", "ex02_pool", "test_primes_in_ranges_counts_in_worker_processes", "failed", (TAMPERED,)),
    Case("faked_api_counts", "ex04_pipe", "test_one_child_process_over_a_pipe", "failed", (TAMPERED,)),
    # Counts lowered to hide 40 workers: the witness counted the processes from outside (the check's structure).
    Case("hidden_workers", "ex02_pool", "test_primes_in_ranges_speedup", "failed",
         ("worker processes when asked for",)),
    Case("monkeypatching", "ex01_processes", "test_each_call_in_its_own_process", "failed"),
    Case("reads_solutions", "ex01_processes", EX01, "failed", ("returned []",)),
    Case("stack_snooping", "ex01_processes", EX01, "failed", ("the processes exited with codes",)),
    # Inside bubblewrap the parent is the namespace's init, which ignores the signal: the call then times out.
    Case("kills_its_parent", "ex01_processes", EX01, "failed",
         ("killed the process that supervises it|did not finish within 5 s",), timeout_factor=0.25),
    Case("syntax_error", "ex01_processes", EX01, "failed", ("SyntaxError", "ex01_processes.py:1")),
    Case("latin1_bytes", "ex01_processes", EX01, "failed", ("SyntaxError", "not saved as UTF-8")),
    Case("missing_function", "ex01_processes", EX01, "failed", ("has no function `run_in_processes`",)),
    Case("class_not_function", "ex01_processes", EX01, "failed", ("as a class, not a function",)),
    Case("huge_file", "ex01_processes", EX01, "failed", ("File too large",)),
    Case("symlink_outside", "ex01_processes", "*", "not gradable", ("symbolic link",), via="batch"),
    Case("zip_bomb", "ex01_processes", "*", "not gradable", ("unpacks to more than",), via="batch"),
    Case("zip_with_forged_size", "ex01_processes", "*", "not gradable", ("not gradable",), via="batch"),
    Case("zip_with_parent_paths", "ex01_processes", "*", "not gradable", ("outside its folder",), via="batch"),
    Case("tar_with_parent_paths", "ex01_processes", "*", "not gradable", ("outside its folder",), via="batch"),
)

LOADS = "test_parallel_count_loses_no_update"
CONFINED = (
    # Confinement: each would score (or leak, or reach out) without confinement; Landlock refuses it.
    Case("imports_reference_solution", "ex05_counter", LOADS, "failed", ("PermissionError",), needs_landlock=True),
    Case("reads_home_secret", "ex05_counter", LOADS, "failed", ("PermissionError",), needs_landlock=True),
    Case("writes_outside", "ex05_counter", LOADS, "failed", ("PermissionError",), needs_landlock=True,
         must_not_exist=("submission/escaped.txt",)),
    Case("connects_tcp", "ex05_counter", LOADS, "failed", ("PermissionError",), needs_landlock=True),
    Case("signals_grading_process", "ex05_counter", LOADS, "failed", ("PermissionError",), needs_landlock=True),
    # Bounded writes: stopped with or without Landlock.
    Case("writes_past_limit", "ex05_counter", LOADS, "failed", ("wrote more than 64 MB",), max_written_mb=64),
    Case("shm_past_limit", "ex05_counter", LOADS, "failed", ("wrote more than 64 MB",), max_written_mb=64),
)


class _Bait:
    """What the confinement cases reach for: a secret in the grading user's home, a TCP server on 127.0.0.1
    that answers, its port next to the submission. Everything is removed on exit."""

    def __init__(self, case: Case, submission: Path) -> None:
        self.case, self.submission = case, submission
        self.secret: Path | None = None
        self.server = None
        self.answered = 0

    def __enter__(self) -> _Bait:
        if self.case.name == "reads_home_secret":
            self.secret = Path.home() / f".mpgrade-battery-secret-{uuid.uuid4().hex}"
            self.secret.write_text("42\n")
        if self.case.name == "connects_tcp":
            import socket
            import threading

            self.server = socket.create_server(("127.0.0.1", 0))
            (self.submission / "port.txt").write_text(str(self.server.getsockname()[1]))

            def answer() -> None:
                while True:
                    try:
                        connection, _ = self.server.accept()
                    except OSError:
                        return
                    with connection:
                        self.answered += 1
                        connection.sendall(connection.makefile().readline().encode())

            threading.Thread(target=answer, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.secret is not None:
            self.secret.unlink(missing_ok=True)
        if self.server is not None:
            self.server.close()


@dataclass
class Row:
    """What happened to one case."""

    case: str
    expected: str
    verdict: str
    feedback: str
    seconds: float
    processes_left: int
    shm_left: list[str]
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and self.processes_left == 0 and not self.shm_left


def _marked(mark: str) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter():
        try:
            if proc.pid != os.getpid() and proc.status() != psutil.STATUS_ZOMBIE \
                    and proc.environ().get(MARK) == mark:
                found.append(proc)
        except psutil.Error:
            continue
    return found


def _shm() -> set[str]:
    try:
        return set(os.listdir("/dev/shm"))
    except OSError:
        return set()


def _make_batch_input(case: Case, submissions: Path, scratch: Path) -> None:
    """The class folder for a batch case: one student whose submission is the hostile part."""
    student = submissions / "student"
    source = HERE / case.name
    if case.name == "symlink_outside":
        (student / "exercises").mkdir(parents=True)
        secret = scratch / "outside-secret.py"
        secret.write_text("SECRET = 1\n")
        shutil.copy(source / "ex01_processes.py", student / "exercises" / "ex01_processes.py")
        (student / "exercises" / "ex02_pool.py").symlink_to(secret)
        return
    archive = submissions / "student.zip"
    if case.name == "zip_bomb":  # 60 MB of zeros compress to ~60 KB
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
            zipped.writestr("exercises/ex01_processes.py", b"\n" * (60 * 1024 * 1024))
    elif case.name == "zip_with_forged_size":
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
            zipped.writestr("exercises/ex01_processes.py", b"#" * (60 * 1024 * 1024))
        data = bytearray(archive.read_bytes())  # declare 10 bytes in every header; the data is 60 MB
        for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
            at = data.find(signature)
            data[at + offset:at + offset + 4] = (10).to_bytes(4, "little")
        archive.write_bytes(bytes(data))
    elif case.name == "zip_with_parent_paths":
        with zipfile.ZipFile(archive, "w") as zipped:
            zipped.writestr("../escape.py", "ESCAPED = True\n")
            zipped.writestr("exercises/ex01_processes.py", "def run_in_processes(f, a):\n    return []\n")
    elif case.name == "tar_with_parent_paths":
        import io
        import tarfile

        with tarfile.open(submissions / "student.tar.gz", "w:gz") as tarred:
            for name, text in (("../escape.py", b"ESCAPED = True\n"),
                               ("exercises/ex01_processes.py", b"def run_in_processes(f, a):\n    return []\n")):
                info = tarfile.TarInfo(name)
                info.size = len(text)
                tarred.addfile(info, io.BytesIO(text))


def run_case(case: Case, scratch: Path, namespaces: str = "auto", landlock: str = "off") -> Row:
    """Grade ``case`` in ``scratch``; count what it left behind; compare with what it must come to.

    ``namespaces``: "auto" (bubblewrap where it works, as grading does) or "off" (process-level only);
    ``landlock`` likewise (off by default: the battery's older cases test the process-level hardening).
    """
    submission = scratch / "submission"
    if case.via != "batch":
        shutil.copytree(HERE / case.name, submission)
    mark = uuid.uuid4().hex
    previous = {name: os.environ.get(name) for name in (MARK, "MPGRADE_NAMESPACES", "MPGRADE_LANDLOCK")}
    os.environ[MARK] = mark
    os.environ["MPGRADE_NAMESPACES"] = namespaces  # for the cli and batch cases' grading processes
    os.environ["MPGRADE_LANDLOCK"] = landlock
    shm_before = _shm()
    began = time.monotonic()
    verdict, feedback, checks = "error", "", {}
    try:
        if case.via == "check":
            from mpgrade.grading.direct import run_check

            limits = {"max_written_mb": case.max_written_mb} if case.max_written_mb else {}
            with _Bait(case, submission):
                outcome = run_check(case.exercise, case.check, submission, timeout_factor=case.timeout_factor,
                                    namespaces=namespaces, landlock=landlock, **limits)
            verdict, feedback = outcome.status, outcome.feedback
        elif case.via == "cli":
            report_path = scratch / "real-report.json"
            completed = subprocess.run(
                [str(Path(sys.executable).with_name("mpgrade")), "check", "--submission", str(submission), "--report",
                 str(report_path), case.exercise.split("_")[0]],
                capture_output=True, text=True, timeout=300, cwd=submission)
            report = json.loads(report_path.read_text())
            exercise = report["exercises"][case.exercise]
            failing = [c for c in exercise["checks"] if c["status"] != "passed"]
            verdict = "failed" if failing or completed.returncode != 0 else "passed"
            feedback = "\n".join(c["feedback"] for c in failing)
            checks = {c["id"].rpartition("::")[2].split("[")[0]: c for c in exercise["checks"]}
        else:  # batch
            from mpgrade.batch.grade import grade_class

            submissions = scratch / "class"
            submissions.mkdir()
            _make_batch_input(case, submissions, scratch)
            grade_class(submissions, scratch / "results", workers=1, exercises=["ex01"])
            status = json.loads((scratch / "results" / "students" / "student" / "status.json").read_text())
            verdict = "not gradable" if status["status"] == "error" else status["status"]
            feedback = status.get("reason", "")
    finally:
        seconds = time.monotonic() - began
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    time.sleep(case.linger_s)
    left = _marked(mark)
    for proc in left:  # never leave the battery's processes behind, whatever the verdict
        try:
            proc.kill()
        except psutil.Error:
            pass
    shm_left = sorted(_shm() - shm_before)
    for name in shm_left:
        try:
            os.unlink(os.path.join("/dev/shm", name))
        except OSError:
            pass
    row = Row(case.name, case.expect, verdict, feedback, round(seconds, 2), len(left), shm_left)
    for name in case.fails:
        check = checks.get(name, {"status": "missing", "feedback": ""})
        if check["status"] != "failed":
            row.problems.append(f"{name}: {check['status']}, expected failed")
        row.problems += [f"{name}: feedback lacks {word!r}" for word in case.says if word not in check["feedback"]]
    row.problems += [f"{name}: {checks.get(name, {}).get('status', 'missing')}, expected passed"
                     for name in case.passes if checks.get(name, {}).get("status") != "passed"]
    if verdict != case.expect:
        row.problems.append(f"verdict {verdict}, expected {case.expect}")
    row.problems += [f"feedback lacks {word!r}" for word in case.says
                     if not any(part in feedback for part in word.split("|"))]
    row.problems += [f"{name} exists" for name in case.must_not_exist if (scratch / name).exists()]
    if "Traceback" in feedback:
        row.problems.append("feedback shows a traceback")
    if (scratch / "escape.py").exists() or (scratch / "class" / "escape.py").exists():
        row.problems.append("an archive wrote outside its folder")
    return row


def run_all(cases: tuple[Case, ...] = CASES, namespaces: str = "auto") -> list[Row]:
    rows = []
    for case in cases:
        with tempfile.TemporaryDirectory(prefix=f"battery-{case.name}-") as scratch:
            rows.append(run_case(case, Path(scratch), namespaces))
    return rows
