"""The grading engine: one submission graded by the kit's graders in a pytest child process (trusted side).

Runs in the grading process (``mpgrade check``, a batch worker, a platform
script); the pytest child it starts runs the graders, which in turn start a
sandbox per call. Nothing a submission does can reach this process: it only
reads the report v1 file the child writes.

    this process --(pytest command line, PYTHONPATH=graders)--> pytest child --(sandbox per call)--> student code
    this process <--(report v1 JSON file)-- pytest child
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from mpgrade.course import curriculum
from mpgrade.grading import report
from mpgrade.settings import GRADERS_DIR, KIT_ROOT


def grader_files(exercises: list[str]) -> list[Path]:
    """The official grader modules for ``exercises`` (``ex01`` or ``ex01_processes``), or all; hidden checks
    included where the kit has them (the instructor's copy; a student release has none).

    Raises ValueError naming the exercises there are for an unknown one.
    """
    return [path for name in curriculum.select(list(exercises)) for path in curriculum.grader_files(name)]


def _plugin_installed() -> bool:
    """Whether pytest finds the plugin by its ``pytest11`` entry point (the kit is pip-installed)."""
    from importlib.metadata import entry_points

    return any(point.name == "mpgrade" for point in entry_points(group="pytest11"))


def pytest_command(files: list[Path], submission: Path, report_path: Path,
                   start_method: str | None, workers: str | None, extra: list[str]) -> list[str]:
    """The pytest command line that grades ``submission`` with the kit's own configuration."""
    command = [sys.executable, "-m", "pytest", *map(str, files),
               "--rootdir", str(KIT_ROOT), "-p", "no:cacheprovider", "-q", "--no-header",
               "--submission", str(submission), "--mpgrade-report", str(report_path)]
    ini = KIT_ROOT / "pyproject.toml"
    if ini.is_file():
        command += ["-c", str(ini)]
    if not _plugin_installed():  # the kit used from its folder (e.g. Gradescope's run_autograder)
        command += ["-p", "mpgrade.grading.plugin"]
    if start_method:
        command += ["--start-method", start_method]
    if workers:
        # An exercise's checks stay in one worker: what the kit remembers of a hang (later checks of the same
        # function wait less) is kept per grading process, so the same file gets the same treatment.
        command += ["-n", workers, "--dist", "loadfile"]
    return command + extra


PARENT_VARIABLE = "MPGRADE_GRADING_PARENT"
"""Set by :func:`grade` for its pytest child: the grading process's PID, which the child follows."""


def follow_grading_parent(environ: dict[str, str] | None = None) -> None:
    """Runs in the pytest child (its controller, at configure): end when the grading process that started it does.

    The child has a session of its own, so that a stop reaches its whole tree;
    that also takes it out of its parent's process group, and a grading
    process killed outright (SIGKILL, the OOM killer, a node's scheduler)
    would leave it grading on, its sandbox calls with it, for minutes. With
    the parent-death signal its supervisors follow it in turn.
    """
    environ = os.environ if environ is None else environ
    parent = environ.pop(PARENT_VARIABLE, None)  # xdist workers are the controller's children, not the parent's
    if not parent or not sys.platform.startswith("linux"):
        return
    import signal

    from mpgrade_sandboxed import proctree

    proctree.prctl(proctree.PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != int(parent):  # it died before the signal was armed
        os.kill(os.getpid(), signal.SIGTERM)


def grade(submission: Path, exercises: list[str], report_path: Path | None = None,
          start_method: str | None = None, workers: str | None = None, pytest_args: list[str] = (),
          verbose: bool = False, timeout_s: float | None = None) -> dict:
    """Grade ``submission`` with the official graders in a pytest child process; return report v1.

    Raises RuntimeError with pytest's output when no report was produced, and
    TimeoutError when grading took longer than ``timeout_s`` (it is then killed).
    """
    files = grader_files(exercises)
    with tempfile.TemporaryDirectory(prefix="mpgrade-check-") as scratch:
        # The child runs in the kit's folder: a path relative to ours would land there.
        target = Path(report_path).resolve() if report_path else Path(scratch) / "report.json"
        submission = Path(submission).resolve()
        log_path = Path(scratch) / "pytest.log"
        command = pytest_command(files, submission, target, start_method, workers, list(pytest_args))
        env = {k: v for k, v in os.environ.items() if k != "PYTEST_ADDOPTS"}
        # The grading child imports the engine from this kit, installed or not.
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(GRADERS_DIR), env.get("PYTHONPATH")]))
        env[PARENT_VARIABLE] = str(os.getpid())
        with open(log_path, "wb") as log:
            process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                       cwd=KIT_ROOT, env=env, start_new_session=True)
            try:
                returncode = process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                _stop_grading(process)
                raise TimeoutError(f"grading took longer than {timeout_s:g} s") from None
        log_text = log_path.read_text(encoding="utf-8", errors="replace")
        if verbose:
            print(log_text)
        try:
            return report.load(target)
        except (OSError, ValueError):
            raise RuntimeError(f"{log_text[-4000:]}\ngrading did not produce a report "
                               f"(pytest exit code {returncode})") from None


def _stop_grading(process: subprocess.Popen) -> None:
    """Stop a grading pytest and everything under it; return once all of it is gone.

    Sandbox supervisors run in sessions of their own; SIGTERM makes each kill
    its call's whole tree (the same happens by their parent-death signal).
    """
    from mpgrade_sandboxed import proctree

    proctree.stop_session(process.pid, reap=process.wait)
