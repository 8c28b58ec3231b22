"""Which confinement student code gets here, and the rules it gets (grading process).

Three levels, the strongest this machine allows (each call; the report's
``environment.sandbox`` says which, and why not more):

1. **namespaces** (``namespaces.py``): bubblewrap around the runner, where it
   is installed and allowed: the kit hidden, no network, own PIDs, own /dev/shm.
2. **Landlock** (Linux 5.13+; ``mpgrade_sandboxed/landlock.py``): the runner
   confines itself and every process it starts before any student code, to
   read and execute only the Python installation, the system's libraries, the
   private runtime copy and the submission, and write only its call's folder
   and /dev/shm; no TCP (ABI 4+), no signals or abstract sockets outside the
   call (ABI 6+). Applied inside bubblewrap too where both work.
3. **process-level** only: the supervisor's limits and the import hygiene;
   student code can read whatever the grading user can. The CLI says so on its
   first line, and ``--require-confinement`` refuses to grade.

On macOS the Seatbelt profile (``seatbelt.py``) is the second level.

The trusted side decides the rules (here); the runner applies them
(``RunRequest.confine``). A probe runs once per grading process: a
confined interpreter must read the Python installation and fail to list
the kit's ``graders/``.
"""
from __future__ import annotations

import functools
import json
import os
import site
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

from mpgrade_sandboxed import landlock

from mpgrade.settings import KIT_ROOT

SYSTEM_READ = ["/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin", "/etc/ld.so.cache", "/etc/localtime",
               "/etc/nsswitch.conf", "/etc/passwd", "/etc/group", "/etc/hosts", "/etc/os-release",
               "/dev/urandom", "/dev/random", "/dev/zero", "/proc", "/sys/devices/system/cpu",
               "/sys/fs/cgroup"]
"""What any Python program needs to start and run: shared libraries, the dynamic loader's cache, time zone,
user names, random numbers, its own /proc (Landlock keeps other domains' /proc/PID files as ptrace does),
the CPU count (numpy's BLAS reads it here)."""
SYSTEM_WRITE = ["/dev/shm", "/dev/null"]
"""SharedMemory blocks and named semaphores; the null device."""

_probe: tuple[bool, str] | None = None


def python_folders() -> list[Path]:
    """The Python installation as student code sees it: prefixes, the standard library, site-packages."""
    found = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
             os.path.dirname(os.path.realpath(sys.executable))}
    for name in ("stdlib", "platstdlib", "purelib", "platlib"):
        found.add(sysconfig.get_paths().get(name, ""))
    try:
        found.update(site.getsitepackages())
    except AttributeError:  # an old virtualenv's site module
        pass
    return sorted({Path(p).resolve() for p in found if p and os.path.exists(p)})


def _without(path: Path, hidden: Path) -> list[Path]:
    """``path``, or where ``hidden`` lies beneath it, its entries but the one that leads to ``hidden``
    (recursively): Landlock grants a folder with everything under it and cannot take a part back."""
    if path == hidden:
        return []
    if path not in hidden.parents:
        return [path]
    try:
        children = sorted(path.iterdir())
    except OSError:
        return []
    return [kept for child in children for kept in _without(child, hidden)]


@functools.lru_cache(maxsize=1)
def _installation_read() -> tuple[Path, ...]:
    """What every call may read: the system's and the Python installation's folders, without the kit (the
    same for every call of a grading process, so worked out once)."""
    kit = KIT_ROOT.resolve()
    read: list[Path] = []
    for path in [*(Path(p) for p in SYSTEM_READ), *python_folders()]:
        real = path.resolve() if path.exists() else None
        if real is None:
            continue
        if real == kit or kit in real.parents:  # the venv inside a clone of the kit: only the venv itself
            read.append(real)
        else:
            read += _without(real, kit)
    return tuple(read)


def rules(call_dir: Path, submission: Path, runtime_parent: Path) -> dict[str, list[str]]:
    """The paths a call may read (and execute) and write: ``RunRequest.confine``."""
    read = [*_installation_read(), runtime_parent.resolve(), submission.resolve()]
    write = [call_dir.resolve(), *(Path(p) for p in SYSTEM_WRITE if os.path.exists(p))]
    return {"read": sorted({str(p) for p in read}), "write": sorted({str(p) for p in write})}


def wanted(setting: str) -> bool:
    """``auto``: confine with Landlock where the probe shows it works; ``off``: never."""
    return setting != "off" and available()[0]


def available() -> tuple[bool, str]:
    """Whether Landlock confines student code here, and a note that says what (or why not)."""
    global _probe
    if _probe is None:
        _probe = _run_probe()
    return _probe


def reset_probe() -> None:
    """Forget the probe's outcome (tests)."""
    global _probe
    _probe = None


PROBE = """
import json, os, sys
sys.path.insert(0, sys.argv[1])
from mpgrade_sandboxed import landlock
applied = landlock.restrict(**json.loads(sys.argv[2]))
try:
    os.listdir(sys.argv[3])
    kit = "visible"
except PermissionError:
    kit = "hidden"
print(json.dumps({"applied": applied, "kit": kit, "python": os.path.isdir(sys.prefix) and bool(os.listdir(sys.prefix))}))
"""


def _run_probe() -> tuple[bool, str]:
    if sys.platform == "darwin":
        return _run_seatbelt_probe()
    if not sys.platform.startswith("linux"):
        return False, "no confinement on this system (Landlock is Linux's, Seatbelt macOS's)"
    version = landlock.abi()
    if version < 1:
        return False, "Landlock not available: the kernel has none (Linux 5.13+ with Landlock enabled)"
    from mpgrade.sandbox.runtime import runtime_parent

    with tempfile.TemporaryDirectory(prefix="mpgrade-landlock-probe-") as folder:
        confine = rules(Path(folder), Path(folder), runtime_parent())
        command = [sys.executable, "-I", "-B", "-c", PROBE, str(runtime_parent()), json.dumps(confine),
                   str(KIT_ROOT / "graders")]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=20, cwd=folder)
            facts = json.loads(done.stdout.strip().splitlines()[-1])
        except (OSError, subprocess.TimeoutExpired, ValueError, IndexError):
            why = (locals().get("done") and done.stderr.strip().splitlines()[-1:]) or ["it did not start"]
            return False, f"Landlock not used: the probe failed ({why[0][:200]})"
    if facts.get("kit") != "hidden" or not facts.get("python"):
        return False, "Landlock not used: a confined probe still saw the kit, or could not read Python"
    applied = facts["applied"]
    return True, f"Landlock ABI {applied['abi']}: {what_it_confines(applied)}"


SEATBELT_PROBE = """
import os, sys
try:
    os.listdir(sys.argv[1])
    print("visible")
except PermissionError:
    print("hidden")
"""


def _run_seatbelt_probe() -> tuple[bool, str]:
    """macOS: the profile ``seatbelt.py`` writes must hide the kit from a probe run under it (not run by the
    kit's own tests, which run on Linux)."""
    from mpgrade.sandbox import seatbelt
    from mpgrade.sandbox.runtime import runtime_parent

    if not seatbelt.available():
        return False, "Seatbelt not available: /usr/bin/sandbox-exec is missing"
    with tempfile.TemporaryDirectory(prefix="mpgrade-seatbelt-probe-") as folder:
        confine = rules(Path(folder), Path(folder), runtime_parent())
        argv = [sys.executable, "-I", "-B", "-c", SEATBELT_PROBE, str(KIT_ROOT / "graders")]
        try:
            done = subprocess.run(seatbelt.command(argv, confine["read"], confine["write"]), capture_output=True,
                                  text=True, timeout=20, cwd=folder)
        except (OSError, subprocess.TimeoutExpired) as problem:
            return False, f"Seatbelt not used: the probe failed ({problem})"
    if done.stdout.strip() != "hidden":
        return False, "Seatbelt not used: a confined probe still saw the kit, or did not start"
    return True, "Seatbelt (sandbox-exec): files (read: Python, system, the submission; write: the call's folder), no network"


def seatbelt_wanted(setting: str) -> bool:
    """macOS: wrap the runner in ``sandbox-exec`` (the setting is the same as Landlock's)."""
    return sys.platform == "darwin" and wanted(setting)


def what_it_confines(applied: dict) -> str:
    parts = ["files (read: Python, system libraries, the submission; write: the call's folder and /dev/shm)"]
    if applied.get("tcp"):
        parts.append("no TCP")
    if applied.get("signals"):
        parts.append("no signals or abstract sockets outside the call")
    return ", ".join(parts)


def describe(namespaces_setting: str, landlock_setting: str) -> dict:
    """The report's ``environment.sandbox``: the levels applied, and a note (what, or why not more)."""
    from mpgrade.sandbox import namespaces

    levels, notes = [], []
    if namespaces.wanted(namespaces_setting):
        levels.append("namespaces")
    notes.append(namespaces.environment_note(namespaces_setting))
    if landlock_setting == "off":
        notes.append("Landlock off (--mpgrade-landlock off)")
    else:
        ok, note = available()
        if ok:
            levels.append("seatbelt" if sys.platform == "darwin" else "landlock")
        notes.append(note)
    return {"levels": levels or ["process"], "confined": bool(levels), "note": "; ".join(notes)}


def unconfined_warning(sandbox: dict) -> str:
    """One line for the CLI's first line when student code is not confined; "" when it is."""
    if sandbox.get("confined"):
        return ""
    return ("WARNING: student code is not confined here (process-level limits only): it can read and write what "
            f"you can, and reach the network. {sandbox.get('note', '')}")


def refusal(sandbox: dict) -> str:
    """Why grading must not start under ``--require-confinement``; "" when student code is confined."""
    if sandbox.get("confined"):
        return ""
    return ("student code would not be confined here (--require-confinement): " + sandbox.get("note", "")
            + ". Install bubblewrap, or grade on Linux 5.13+ with Landlock enabled.")


def from_environment() -> dict:
    """``describe`` for the settings in this process's environment (the CLI, before it starts pytest)."""
    return describe(os.environ.get("MPGRADE_NAMESPACES", "auto") or "auto",
                    os.environ.get("MPGRADE_LANDLOCK", "auto") or "auto")
