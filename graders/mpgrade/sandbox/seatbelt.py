"""macOS: the same rules as Landlock, as a Seatbelt profile for ``sandbox-exec`` (grading process).

macOS has no Landlock; its kernel sandbox (Seatbelt) takes a profile in
SBPL, applied by ``/usr/bin/sandbox-exec -p PROFILE COMMAND``, which binds
the command and everything it starts. The profile here allows what
``confinement.rules`` allows on Linux (read and execute the Python
installation, the system, the runtime copy and the submission; write the
call's folder and the temporary folders macOS gives a process) and denies
the rest, the network included.

Not tested on macOS by the kit's own tests (they run on Linux); what is
tested is the profile's text. ``sandbox-exec`` is deprecated in its manual
page but still what Chromium, Bazel and Nix use on macOS.
"""
from __future__ import annotations

import shutil
import sys

SANDBOX_EXEC = "/usr/bin/sandbox-exec"
SYSTEM_READ = ["/usr", "/System", "/Library", "/bin", "/sbin", "/private/etc", "/private/var/db/timezone",
               "/dev/null", "/dev/urandom", "/dev/random", "/dev/zero"]


def _quote(path: str) -> str:
    return '"' + path.replace("\\", "\\\\").replace('"', '\\"') + '"'


def profile(read: list[str], write: list[str]) -> str:
    """An SBPL profile: deny by default; read (and execute) ``read``; read and write ``write``; no network."""
    lines = ["(version 1)", "(deny default)", "(allow process-fork)", "(allow process-exec)",
             "(allow signal (target same-sandbox))", "(allow sysctl-read)", "(allow mach-lookup)",
             "(allow ipc-posix-shm)", "(allow ipc-posix-sem)", "(allow file-read-metadata)"]
    readable = " ".join(f"(subpath {_quote(p)})" for p in [*SYSTEM_READ, *read])
    writable = " ".join(f"(subpath {_quote(p)})" for p in write)
    lines.append(f"(allow file-read* process-exec {readable})")
    if writable:
        lines.append(f"(allow file-read* file-write* {writable})")
    lines.append('(allow file-write-data (literal "/dev/null"))')
    lines.append("(allow network* (local unix))")  # multiprocessing's own sockets, in the call's folder
    return "\n".join(lines) + "\n"


def available() -> bool:
    return sys.platform == "darwin" and shutil.which(SANDBOX_EXEC) is not None


def command(argv: list[str], read: list[str], write: list[str]) -> list[str]:
    """``argv`` run under the profile."""
    return [SANDBOX_EXEC, "-p", profile(read, write), *argv]
