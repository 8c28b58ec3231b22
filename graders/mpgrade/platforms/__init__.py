"""Scripts that grading platforms run, shipped as files by ``mpgrade export`` (see ``course/exports.py``).

They run under the platform's own Python, where the kit may not be
importable yet, so each uses the standard library only until it has made
the kit available; none is imported by the kit.
"""
from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent


def script(name: str) -> str:
    """The text of one platform script in this folder."""
    return (HERE / name).read_text(encoding="utf-8")
