"""The optional namespace sandbox: bubblewrap around the runner, where a probe shows it works (trusted side).

Process-level hardening (supervisor, limits, import hygiene) is the
baseline everywhere. Where ``bwrap`` is installed and can create namespaces
(root in a container, or a kernel that allows unprivileged user namespaces;
not GitHub's Ubuntu 24.04 runners), the runner starts inside one:

    bwrap --unshare-all --die-with-parent   no network, own PIDs, dies with the supervisor
          --ro-bind / /                      the whole file system read-only ...
          --tmpfs KIT_ROOT                   ... except the kit: solutions/ and graders/ are not there
          --ro-bind VENV, SUBMISSION         ... but the Python environment and the submission are
          --bind CALL_DIR                    the call's own folder is writable
          --dev /dev --proc /proc --tmpfs /dev/shm

so student code cannot read the reference solutions or hidden graders even
by absolute path, cannot write outside its call folder, and its shared
memory vanishes with the call. The probe runs once per grading process; its
outcome (and why, when it fails) is in the report's environment.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from mpgrade.settings import KIT_ROOT

_probe: tuple[bool, str] | None = None


def _bwrap() -> str | None:
    return shutil.which("bwrap")


def command(argv: list[str], call_dir: Path, submission: Path, readable: list[Path]) -> list[str]:
    """``argv`` wrapped in bubblewrap (see the module docstring)."""
    wrapped = [_bwrap() or "bwrap", "--unshare-all", "--die-with-parent",
               "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/dev/shm"]
    kit = KIT_ROOT.resolve()
    if kit != Path("/"):
        wrapped += ["--tmpfs", str(kit)]
    for path in [Path(sys.prefix).resolve(), *readable, submission.resolve()]:
        if path == kit or kit in path.parents:  # hidden by the tmpfs: show this part again, read-only
            wrapped += ["--ro-bind", str(path), str(path)]
    wrapped += ["--bind", str(call_dir), str(call_dir), "--chdir", str(call_dir / "cwd"), "--"]
    return wrapped + argv


def available() -> tuple[bool, str]:
    """Whether the runner can start inside bubblewrap here, and a note saying why (not)."""
    global _probe
    if _probe is None:
        _probe = _run_probe()
    return _probe


def _run_probe() -> tuple[bool, str]:
    if not sys.platform.startswith("linux"):
        return False, "namespace sandbox: Linux only"
    if _bwrap() is None:
        return False, "namespace sandbox not used: bwrap (bubblewrap) is not installed"
    import tempfile

    with tempfile.TemporaryDirectory(prefix="mpgrade-bwrap-probe-") as folder:
        call_dir = Path(folder)
        (call_dir / "cwd").mkdir()
        probe = [sys.executable, "-I", "-c",
                 "import os, sys; open('ok', 'w').write(str(os.path.isdir(sys.argv[1])))", str(KIT_ROOT / "graders")]
        try:
            done = subprocess.run(command(probe, call_dir, call_dir, []), capture_output=True, text=True, timeout=20)
        except (OSError, subprocess.TimeoutExpired) as problem:
            return False, f"namespace sandbox not used: bwrap failed to start ({problem})"
        marker = call_dir / "cwd" / "ok"
        if done.returncode != 0 or not marker.is_file():
            why = (done.stderr or done.stdout).strip().splitlines()[-1:] or [f"exit code {done.returncode}"]
            return False, f"namespace sandbox not used: bwrap does not work here ({why[0][:200]})"
        if marker.read_text() != "False":
            return False, "namespace sandbox not used: bwrap ran, but the kit was still visible inside"
    return True, "namespace sandbox: bwrap (no network, own PIDs, read-only files, the kit hidden)"


def wanted(setting: str) -> bool:
    """``auto``: use bwrap when the probe says it works; ``off``: never."""
    return setting != "off" and available()[0]


def reset_probe() -> None:
    """Forget the probe's outcome (tests)."""
    global _probe
    _probe = None


def environment_note(setting: str) -> str:
    if setting == "off":
        return "namespace sandbox off (--mpgrade-namespaces off)"
    return available()[1]

