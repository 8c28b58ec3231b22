"""Landlock: the runner confines itself and every process it starts, before any student code (sandbox side).

Linux's Landlock (5.13+, on by default in Ubuntu 22.04+, Debian, Fedora, Arch,
WSL2) lets an unprivileged process give up access for itself and all its
descendants, for good: no root, no namespaces. The trusted side decides the
rules (``mpgrade.sandbox.confinement``: which folders may be read and
executed, which written) and puts them in the runner's request; the runner
applies them here, after reading its request and greeting the witness and
before importing the student's module:

    create_ruleset(handled: every file-system right the ABI knows,
                   TCP bind and connect (ABI 4+),
                   scoped: abstract UNIX sockets and signals (ABI 6+))
    add_rule(PATH_BENEATH, read+execute) for each folder to read
    add_rule(PATH_BENEATH, all rights)   for each folder to write
    prctl(NO_NEW_PRIVS); restrict_self()

A right the ruleset handles and no rule grants is refused everywhere: no
file outside the listed folders can be opened, no TCP connection made, no
process outside the call signalled (nor read through ``/proc/PID``, which
Landlock has always scoped like ptrace). Already open descriptors (the result
pipe, stdout and stderr files) stay usable.

A few ``ctypes`` syscalls rather than the ``landlock`` package on PyPI: that
one is an alpha (1.0.0.dev5) without network rules or scopes, and the
sandbox's runtime must not depend on what the student's environment has
installed.
"""
from __future__ import annotations

import ctypes
import os
import sys
from typing import Any

SYS_CREATE_RULESET, SYS_ADD_RULE, SYS_RESTRICT_SELF = 444, 445, 446  # the same on every architecture
CREATE_RULESET_VERSION = 1
RULE_PATH_BENEATH = 1
PR_SET_NO_NEW_PRIVS = 38

EXECUTE, WRITE_FILE, READ_FILE, READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
REMOVE_DIR, REMOVE_FILE, MAKE_CHAR, MAKE_DIR, MAKE_REG = 1 << 4, 1 << 5, 1 << 6, 1 << 7, 1 << 8
MAKE_SOCK, MAKE_FIFO, MAKE_BLOCK, MAKE_SYM = 1 << 9, 1 << 10, 1 << 11, 1 << 12
REFER, TRUNCATE, IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15
FS_BY_ABI = {1: (1 << 13) - 1, 2: (1 << 14) - 1, 3: (1 << 15) - 1, 4: (1 << 15) - 1, 5: (1 << 16) - 1}
"""Every file-system right each ABI knows (later ABIs add none)."""
NET_BIND_TCP, NET_CONNECT_TCP = 1 << 0, 1 << 1
SCOPE_ABSTRACT_UNIX_SOCKET, SCOPE_SIGNAL = 1 << 0, 1 << 1

READ_EXECUTE = EXECUTE | READ_FILE | READ_DIR
FILE_RIGHTS = EXECUTE | WRITE_FILE | READ_FILE | TRUNCATE | IOCTL_DEV
"""The rights a rule on a single file (not a folder) may carry."""


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


class _PathBeneathAttr(ctypes.Structure):
    # __attribute__((packed)) in the kernel's header: 12 bytes. Python 3.14 wants the layout named with _pack_
    # (ignored before): "ms" packs as the kernel does here.
    _layout_ = "ms"
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


class NotConfined(Exception):
    """Landlock could not be applied; the reason is the message."""


def _libc() -> Any:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    return libc


def abi() -> int:
    """The kernel's Landlock ABI version; 0 where there is none (not Linux, too old, or turned off)."""
    if not sys.platform.startswith("linux"):
        return 0
    try:
        version = _libc().syscall(SYS_CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(CREATE_RULESET_VERSION))
    except (OSError, AttributeError):
        return 0
    return max(0, int(version))


def restrict(read: list[str], write: list[str]) -> dict[str, Any]:
    """Confine this process and all it will start to ``read`` (read and execute) and ``write`` (every right).

    Returns what was applied (the ABI and which kinds of rules), for the report. Raises ``NotConfined`` if the
    kernel refuses: the caller must then not run student code. Paths that do not exist are skipped.
    """
    version = abi()
    if version < 1:
        raise NotConfined("the kernel has no Landlock (Linux 5.13+ with Landlock enabled)")
    libc = _libc()
    handled_fs = FS_BY_ABI.get(version, FS_BY_ABI[5])
    attr = _RulesetAttr(handled_fs, NET_BIND_TCP | NET_CONNECT_TCP if version >= 4 else 0,
                        SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL if version >= 6 else 0)
    size = 8 if version < 4 else 16 if version < 6 else 24
    ruleset = libc.syscall(SYS_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(size), ctypes.c_uint32(0))
    if ruleset < 0:
        raise NotConfined(f"landlock_create_ruleset failed: {os.strerror(ctypes.get_errno())}")
    try:
        for paths, rights in ((read, READ_EXECUTE), (write, handled_fs)):
            for path in paths:
                _add_path(libc, int(ruleset), path, rights & handled_fs)
        if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise NotConfined(f"prctl(NO_NEW_PRIVS) failed: {os.strerror(ctypes.get_errno())}")
        if libc.syscall(SYS_RESTRICT_SELF, ctypes.c_int(ruleset), ctypes.c_uint32(0)) != 0:
            raise NotConfined(f"landlock_restrict_self failed: {os.strerror(ctypes.get_errno())}")
    finally:
        os.close(int(ruleset))
    return {"abi": version, "files": True, "tcp": version >= 4, "signals": version >= 6,
            "abstract_unix_sockets": version >= 6}


def _add_path(libc: Any, ruleset: int, path: str, rights: int) -> None:
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return
    try:
        if not os.path.isdir(path):
            rights &= FILE_RIGHTS
        rule = _PathBeneathAttr(rights, fd)
        if libc.syscall(SYS_ADD_RULE, ctypes.c_int(ruleset), ctypes.c_int(RULE_PATH_BENEATH), ctypes.byref(rule),
                        ctypes.c_uint32(0)) != 0:
            raise NotConfined(f"landlock_add_rule({path}) failed: {os.strerror(ctypes.get_errno())}")
    finally:
        os.close(fd)
