"""Plain data across the sandbox boundary: JSON with a few tagged types, never pickle.

Runs on both sides. The sandbox encodes whatever student code returned; the
trusted side decodes it with ``json.loads`` and an object hook that can only
build dicts, lists, tuples, sets, frozensets, bytes, numbers, strings and the
small :class:`Opaque` / :class:`RemoteException` records below. Nothing in the
bytes can make the trusted side import or call anything.

Tags (a dict with exactly one key starting with ``__``):
``__tuple__``, ``__set__``, ``__frozenset__``, ``__bytes__`` (base64),
``__float__`` ("nan", "inf", "-inf"), ``__dict__`` (list of [key, value] pairs,
for dicts whose keys are not all strings), ``__ndarray__`` ({dtype, shape,
data}), ``__exception__`` ({type, message}), ``__task__`` (a grader task name,
trusted -> sandbox only), ``__opaque__`` ({type, repr}: anything else).
"""
from __future__ import annotations

import base64
import json
import math
from dataclasses import dataclass
from typing import Any

MAX_DEPTH = 64
MAX_ITEMS = 1_000_000
REPR_LIMIT = 300


@dataclass(frozen=True)
class Opaque:
    """A value of a type that cannot cross as data; only its type name and a short repr do."""

    type: str
    repr: str


@dataclass(frozen=True)
class RemoteException:
    """An exception instance returned (not raised) by student code."""

    type: str
    message: str


@dataclass(frozen=True)
class TaskRef:
    """A grader task function, named on the trusted side and resolved in the sandbox."""

    name: str


class _Budget:
    def __init__(self) -> None:
        self.items = 0


def _short_repr(value: Any) -> str:
    try:
        text = repr(value)
    except BaseException as exc:  # student __repr__ may raise anything
        text = f"<unrepresentable {type(value).__name__}: {type(exc).__name__}>"
    if len(text) > REPR_LIMIT:
        text = text[: REPR_LIMIT - 3] + "..."
    return text


def _type_name(value: Any) -> str:
    cls = type(value)
    module = getattr(cls, "__module__", "") or ""
    name = getattr(cls, "__qualname__", cls.__name__)
    return name if module in ("builtins", "") else f"{module}.{name}"


def to_plain(value: Any, _depth: int = 0, _budget: _Budget | None = None) -> Any:
    """Turn ``value`` into a JSON-ready structure with tags (sandbox side)."""
    budget = _budget or _Budget()
    budget.items += 1
    if budget.items > MAX_ITEMS or _depth > MAX_DEPTH:
        return {"__opaque__": {"type": _type_name(value), "repr": "<too large or too deep>"}}
    cls = type(value)
    if value is None or cls is bool or cls is str:
        return value
    if cls is int:
        return value
    if cls is float:
        if math.isfinite(value):
            return value
        return {"__float__": repr(value)}
    if isinstance(value, TaskRef):
        return {"__task__": value.name}
    if cls is list:
        return [to_plain(v, _depth + 1, budget) for v in value]
    if cls is tuple:
        return {"__tuple__": [to_plain(v, _depth + 1, budget) for v in value]}
    if cls in (set, frozenset):
        tag = "__set__" if cls is set else "__frozenset__"
        items = [to_plain(v, _depth + 1, budget) for v in value]
        try:
            items.sort(key=json.dumps)
        except (TypeError, ValueError):
            pass
        return {tag: items}
    if cls in (bytes, bytearray):
        return {"__bytes__": base64.b64encode(bytes(value)).decode("ascii")}
    if cls is dict:
        if all(type(k) is str and not k.startswith("__") for k in value):
            return {k: to_plain(v, _depth + 1, budget) for k, v in value.items()}
        return {"__dict__": [[to_plain(k, _depth + 1, budget), to_plain(v, _depth + 1, budget)]
                             for k, v in value.items()]}
    if isinstance(value, BaseException):
        try:
            message = str(value)[:REPR_LIMIT]
        except BaseException:  # a student __str__ may raise anything
            message = "<message could not be shown>"
        return {"__exception__": {"type": _type_name(value), "message": message}}
    # numpy without importing it: arrays and scalars are recognised by their module.
    if getattr(cls, "__module__", "") == "numpy":
        if cls.__name__ == "ndarray":
            return {"__ndarray__": {"dtype": str(value.dtype), "shape": list(value.shape),
                                    "data": to_plain(value.tolist(), _depth + 1, budget)}}
        if hasattr(value, "item"):
            return to_plain(value.item(), _depth + 1, budget)
    # Subclasses of plain types keep their plain value but say what they were.
    for base in (bool, int, float, str):
        if isinstance(value, base):
            return {"__opaque__": {"type": _type_name(value), "repr": _short_repr(base(value))}}
    return {"__opaque__": {"type": _type_name(value), "repr": _short_repr(value)}}


def dumps(value: Any) -> bytes:
    """Encode ``value`` as tagged JSON bytes."""
    return json.dumps(to_plain(value), allow_nan=False, separators=(",", ":")).encode("utf-8")


def _hook(obj: dict) -> Any:
    if len(obj) != 1:
        return obj
    (key, val), = obj.items()
    if not key.startswith("__"):
        return obj
    if key == "__tuple__" and isinstance(val, list):
        return tuple(val)
    if key == "__set__" and isinstance(val, list):
        return set(_hashable(v) for v in val)
    if key == "__frozenset__" and isinstance(val, list):
        return frozenset(_hashable(v) for v in val)
    if key == "__bytes__" and isinstance(val, str):
        return base64.b64decode(val)
    if key == "__float__" and val in ("nan", "inf", "-inf"):
        return float(val)
    if key == "__dict__" and isinstance(val, list):
        return {_hashable(k): v for k, v in val}
    if key == "__ndarray__" and isinstance(val, dict):
        import numpy  # trusted side only; data is a plain nested list

        return numpy.array(val.get("data"), dtype=str(val.get("dtype")))
    if key == "__exception__" and isinstance(val, dict):
        return RemoteException(str(val.get("type")), str(val.get("message")))
    if key == "__opaque__" and isinstance(val, dict):
        return Opaque(str(val.get("type")), str(val.get("repr")))
    if key == "__task__" and isinstance(val, str):
        return TaskRef(val)
    return obj


def _hashable(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_hashable(v) for v in value)
    if isinstance(value, dict):
        return Opaque("dict", repr(value)[:REPR_LIMIT])
    return value


def loads(data: bytes | str) -> Any:
    """Decode tagged JSON bytes (trusted side). Raises ValueError on anything malformed."""
    return json.loads(data, object_hook=_hook)
