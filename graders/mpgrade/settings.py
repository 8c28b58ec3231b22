"""Every grading setting, defined once, with one precedence (trusted side).

Precedence, as in pytest-timeout: command line, then environment variable,
then ini key (``[tool.pytest.ini_options]``), then the default. A bad value
names itself and where it came from.
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

GRADERS_DIR = Path(__file__).resolve().parent.parent
"""``graders/``: the engine package and the official grader modules."""
KIT_ROOT = GRADERS_DIR.parent
START_METHODS = ("fork", "spawn", "forkserver")


def platform_start_method(platform: str = sys.platform) -> str:
    """The default start method: the strictest this platform's Python starts processes with.

    forkserver on Linux (Python 3.14's own default there): a child gets its
    target by pickling and imports the main module as ``__mp_main__``, exactly
    as under spawn, so it catches the same mistakes (every known-mistake
    fixture got the same verdict under both: benchmarks/start_methods.py), but
    a call starts one fresh interpreter (the fork server) instead of one per
    worker (11% of a submission's CPU). spawn elsewhere, where it is the
    platform's default (macOS, Windows).
    """
    return "forkserver" if platform.startswith("linux") else "spawn"


DEFAULT_START_METHOD = platform_start_method()
DEFAULT_CALL_TIMEOUT_S = 20.0


class SettingError(ValueError):
    """A setting has a value that cannot be used."""


ALL_METHODS = "all"
"""Grade every check under each start method; a check passes only if it passes under all."""


def _start_method(text: str) -> str:
    if text not in START_METHODS + (ALL_METHODS,):
        raise ValueError(f"choose one of {', '.join(START_METHODS)} or {ALL_METHODS}")
    return text


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise ValueError("must be a number above 0")
    return value


def _speedup_policy(text: str) -> str:
    if text not in ("structural", "skip", "fail"):
        raise ValueError("choose one of structural, skip, fail")
    return text


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise ValueError("must be a whole number above 0")
    return value


def _namespaces(text: str) -> str:
    if text not in ("auto", "off"):
        raise ValueError("choose auto or off")
    return text


def _yes_no(text: str) -> bool:
    if text.lower() not in ("yes", "no", "true", "false", "1", "0"):
        raise ValueError("choose yes or no")
    return text.lower() in ("yes", "true", "1")


def _seed(text: str) -> int:
    return int(text)


@dataclass(frozen=True)
class Setting:
    """One setting: its names on each channel, its help text, its parser."""

    name: str
    option: str
    env: str
    help: str
    parse: Callable[[str], Any]
    default: Callable[[], Any]


SETTINGS = (
    Setting("submission", "--submission", "MPGRADE_SUBMISSION",
            "folder with the student's exercise modules (default: the kit's exercises/)",
            lambda text: Path(text).expanduser().resolve(), lambda: KIT_ROOT / "exercises"),
    Setting("start_method", "--start-method", "MPGRADE_START_METHOD",
            "start method for student code: fork, spawn, forkserver, or all (each check under each; default: "
            "forkserver on Linux, as Python 3.14 there; spawn elsewhere, as on macOS and Windows)",
            _start_method, lambda: DEFAULT_START_METHOD),
    Setting("timeout_factor", "--mpgrade-timeout-factor", "MPGRADE_TIMEOUT_FACTOR",
            "multiply every time limit by this (for slow machines; default 1)",
            _positive_float, lambda: 1.0),
    Setting("seed", "--mpgrade-seed", "MPGRADE_SEED",
            "seed for the random inputs of every check (default: a new one each run, reported)",
            _seed, lambda: None),
    Setting("speedup_policy", "--speedup-policy", "MPGRADE_SPEEDUP_POLICY",
            "when this machine cannot show a speedup: structural (grade the evidence of parallel work; default), "
            "skip (leave the check out of the score) or fail",
            _speedup_policy, lambda: "structural"),
    Setting("max_processes", "--mpgrade-max-processes", "MPGRADE_MAX_PROCESSES",
            "stop a call that has more than this many live processes at once (default 100)",
            _positive_int, lambda: 100),
    Setting("max_memory_mb", "--mpgrade-max-memory", "MPGRADE_MAX_MEMORY_MB",
            "stop a call whose processes together hold more than this many MB of memory (default 4096)",
            _positive_int, lambda: 4096),
    Setting("max_address_space_mb", "--mpgrade-max-address-space", "MPGRADE_MAX_ADDRESS_SPACE_MB",
            "address space of each process of a call, in MB (RLIMIT_AS; default 2048: room for numpy)",
            _positive_int, lambda: 2048),
    Setting("max_file_mb", "--mpgrade-max-file-size", "MPGRADE_MAX_FILE_MB",
            "largest file (and SharedMemory block) a call may write, in MB (RLIMIT_FSIZE; default 256)",
            _positive_int, lambda: 256),
    Setting("max_written_mb", "--mpgrade-max-written", "MPGRADE_MAX_WRITTEN_MB",
            "stop a call that has written more than this many MB in all, its folder and /dev/shm together "
            "(default 1024)",
            _positive_int, lambda: 1024),
    Setting("namespaces", "--mpgrade-namespaces", "MPGRADE_NAMESPACES",
            "auto: run student code inside bubblewrap (no network, read-only files, the kit hidden) where a "
            "probe shows bwrap works; off: never (default auto)",
            _namespaces, lambda: "auto"),
    Setting("landlock", "--mpgrade-landlock", "MPGRADE_LANDLOCK",
            "auto: confine student code with Landlock (read only Python and the submission, write only the "
            "call's folder and /dev/shm, no TCP, no signals outside the call) where the kernel has it; off: never "
            "(default auto)",
            _namespaces, lambda: "auto"),
    Setting("require_confinement", "--require-confinement", "MPGRADE_REQUIRE_CONFINEMENT",
            "refuse to grade unless student code is confined (namespaces or Landlock): yes or no (default no)",
            _yes_no, lambda: False),
    Setting("report", "--mpgrade-report", "MPGRADE_REPORT",
            "write the mpgrade report v1 (JSON) to this path",
            lambda text: Path(text).expanduser().resolve(), lambda: None),
)


@dataclass(frozen=True)
class GradingSettings:
    """The resolved settings of one grading session."""

    submission: Path
    start_method: str
    timeout_factor: float
    seed: int | None
    report: Path | None
    speedup_policy: str = "structural"
    max_processes: int = 100
    max_memory_mb: int = 4096
    max_address_space_mb: int = 2048
    max_file_mb: int = 256
    max_written_mb: int = 1024
    namespaces: str = "auto"
    landlock: str = "auto"
    require_confinement: bool = False


def resolve(from_option: Callable[[str], Any], from_ini: Callable[[str], Any],
            environ: dict[str, str] | None = None) -> GradingSettings:
    """Resolve every setting; ``from_option``/``from_ini`` look a setting up by name."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for setting in SETTINGS:
        candidates = (
            (from_option(setting.name), f"{setting.option} option"),
            (environ.get(setting.env), f"{setting.env} environment variable"),
            (from_ini(setting.name), f"mpgrade_{setting.name} ini key"),
        )
        for raw, source in candidates:
            if raw is None or raw == "":
                continue
            try:
                values[setting.name] = setting.parse(str(raw))
            except ValueError as exc:
                raise SettingError(f"Invalid {setting.name.replace('_', ' ')} {raw!r} from {source}: {exc}") from None
            break
        else:
            values[setting.name] = setting.default()
    return GradingSettings(**values)
