"""Read a student's captured output without loading all of it (trusted side)."""
from __future__ import annotations

import os
from dataclasses import dataclass

HEAD_BYTES = 16 * 1024
TAIL_BYTES = 16 * 1024


@dataclass(frozen=True)
class CapturedOutput:
    """What a call printed: the head and tail of it, and how much was left out."""

    text: str
    """Head and tail joined by a marker line saying how much was omitted."""
    total_bytes: int
    """Size of everything printed."""
    truncated: bool
    """True when the middle was left out."""


def read_capped(path: str, head: int = HEAD_BYTES, tail: int = TAIL_BYTES, upto: int | None = None) -> CapturedOutput:
    """Head and tail of the file at ``path`` (of its first ``upto`` bytes: what was written before the call was
    stopped, not what its processes printed as they were killed); the middle is never read."""
    try:
        size = os.path.getsize(path)
    except OSError:
        return CapturedOutput("", 0, False)
    if upto is not None:
        size = min(size, upto)
    with open(path, "rb") as handle:
        if size <= head + tail:
            return CapturedOutput(handle.read(size).decode("utf-8", "replace"), size, False)
        first = handle.read(head)
        handle.seek(size - tail)
        last = handle.read(tail)
    omitted = size - head - tail
    marker = f"\n[... {omitted:,} bytes of output omitted ({size:,} bytes in all) ...]\n"
    text = first.decode("utf-8", "replace") + marker + last.decode("utf-8", "replace")
    return CapturedOutput(text, size, True)
