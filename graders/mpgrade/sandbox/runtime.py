"""What a sandboxed call runs with: the private runtime copy, its environment and its limits (grading process).

Runs in the grading process, before the supervisor starts: the launcher asks
here for the folder the sandbox imports its runtime from, the environment
every process of the call inherits, and the resource limits it passes to the
supervisor (which applies them; see ``supervisor.py``).
"""
from __future__ import annotations

import compileall
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from mpgrade_sandboxed.proctree import CALL_MARK

RUNTIME_SOURCE = Path(__file__).resolve().parents[2] / "mpgrade_sandboxed"
SANDBOX_ENV = {
    # One BLAS thread per process: students' numpy must not oversubscribe the CPUs.
    "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
    "PYTHONDONTWRITEBYTECODE": "1", "PYTHONUNBUFFERED": "1",
}
_runtime_copy: Path | None = None


def runtime_parent() -> Path:
    """A private copy of ``mpgrade_sandboxed``, made once per grading process: the only engine code the sandbox sees.

    The sandbox imports its runtime from here, not from ``graders/``, so neither
    its import path nor ``mpgrade_sandboxed.__file__`` leads a relative path away
    to the grader modules, hidden graders or ``solutions/``. It is compiled
    here, once: sandboxed interpreters run with ``-B`` (they never write
    bytecode), so otherwise the supervisor, the runner and every spawn child
    would compile the runtime's modules from source again (10-15 ms each).
    """
    global _runtime_copy
    if _runtime_copy is None or not (_runtime_copy / "mpgrade_sandboxed").is_dir():
        import atexit

        folder = Path(tempfile.mkdtemp(prefix="mpgrade-sandboxed-"))
        shutil.copytree(RUNTIME_SOURCE, folder / "mpgrade_sandboxed", ignore=shutil.ignore_patterns("__pycache__"))
        compileall.compile_dir(folder / "mpgrade_sandboxed", quiet=2, workers=1)
        atexit.register(shutil.rmtree, folder, True)
        _runtime_copy = folder
    return _runtime_copy


def sandbox_env(scratch: Path, mark: str, cpus: tuple[int, ...] | None) -> dict[str, str]:
    """The environment of every process of a call: this one's, without pytest's, Python's or ours.

    ``scratch`` is the call's home and temporary folder; ``mark`` (``CALL_MARK``)
    finds the call's processes if its supervisor is killed.
    """
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYTEST", "PYTHON", "MPGRADE", "COV_CORE"))}
    env.update(SANDBOX_ENV)
    env["HOME"] = env["TMPDIR"] = str(scratch)
    env[CALL_MARK] = mark
    if cpus:
        env["PYTHON_CPU_COUNT"] = str(len(cpus))  # os.cpu_count() in the student's code (Python 3.13+)
    return env


@dataclass(frozen=True)
class Limits:
    """Resource limits of one sandboxed call (each process, and the call's processes together).

    Defaults let every reference solution pass with a wide margin: a Pool of
    a few workers with numpy needs ~20 processes and a few hundred MB.
    """

    max_processes: int = 100
    """Live processes of the call at once (counted by the supervisor; cgroup pids.max where writable)."""
    max_memory_mb: int = 4096
    """Resident memory of the call's processes together (watchdog; cgroup memory cap where writable)."""
    address_space_mb: int = 2048
    """RLIMIT_AS per process: a 20 GB allocation fails at once with MemoryError (numpy needs ~300 MB)."""
    file_size_mb: int = 256
    """RLIMIT_FSIZE: an output flood or a huge file stops with an error; room for SharedMemory exercises."""
    open_files: int = 1024
    """RLIMIT_NOFILE per process."""
    max_written_mb: int = 1024
    """What the call may write in all, its folder and /dev/shm together (the supervisor's write meter)."""

    def rlimits(self, timeout_s: float) -> dict[str, int]:
        return {"RLIMIT_CORE": 0, "RLIMIT_FSIZE": self.file_size_mb * 2**20,
                "RLIMIT_AS": self.address_space_mb * 2**20, "RLIMIT_NOFILE": self.open_files,
                # CPU seconds per process: a backstop only; the wall-clock deadline is what stops a call.
                "RLIMIT_CPU": int(timeout_s) + 30}
