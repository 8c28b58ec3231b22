"""Race instrumentation for shared objects (sandbox side; runs in the runner and in every child).

Installed in the runner before the student module is imported, when a grader
asks for it. Shared objects and locks that *student code* creates through
``multiprocessing`` (``Value``, ``RawValue``, ``Array``, ``RawArray``,
``Lock``, ``RLock``, a Manager's ``dict``/``Lock``/``RLock``) are handed out
as thin tracked wrappers. The wrappers pickle as themselves, so a child
started with spawn or forkserver imports this module when it unpickles its
arguments and goes on tracking; under fork the child simply inherits them.

Every process records, per shared element (a Value, an Array index, a dict key):
- whether each write happened while the process held a tracked lock,
- whether a read and the write after it fell inside one continuous hold of
  one lock (catches "lock only around the read" and "only around the write").
It writes these facts to ``races-<pid>.json`` in the call's evidence folder.
The trusted side combines the processes: an element written by two or more
processes, one of them without a lock, is a race, whether or not the
processes happened to overlap in time. Disjoint slices without a lock, or
reads after joining, are not races.

Noise: after each read in a child process the tracked object sleeps a
little, so the lost update that the missing lock allows really happens and
shows in the counts too.
"""
from __future__ import annotations

import json
import linecache
import os
import random
import sys
import threading
import time
from typing import Any

from mpgrade_sandboxed.tasks import EVIDENCE_ENV

RUNNER_ENV = "MPGRADE_RUNNER_PID"
SUBMISSION_ENV = "MPGRADE_SUBMISSION"
NOISE_ENV = "MPGRADE_RACE_NOISE_S"
DEFAULT_NOISE_S = 0.0002
READ, LOCKED_WRITE, UNLOCKED_WRITE, SPLIT, QUIET_WRITE = "r", "L", "U", "S", "Q"


class _State:
    """What this process knows: held locks, pending reads, facts to report."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.next_epoch = 0
        self.held: dict[int, list[int]] = {}  # id(lock) -> [depth, epoch]
        self.reads: dict[tuple, frozenset] = {}
        self.facts: dict[str, dict[str, Any]] = {}
        self.dirty = False
        self.last_flush = 0.0
        self.rng = random.Random(os.getpid())
        self.lock = threading.RLock()


_state: _State | None = None


def state() -> _State:
    """This process's state (made anew after a fork, and in each spawned child)."""
    global _state
    if _state is None or _state.pid != os.getpid():
        _state = _State()
        try:
            import multiprocessing.util

            multiprocessing.util.Finalize(None, flush, exitpriority=100)
        except Exception:
            pass
    return _state


def _held() -> frozenset:
    return frozenset((key, entry[1]) for key, entry in state().held.items() if entry[0] > 0)


def _is_runner() -> bool:
    return str(os.getpid()) == os.environ.get(RUNNER_ENV)


def _runner_alone() -> bool:
    """In the runner with no child process alive: nothing can run at the same time."""
    if not _is_runner():
        return False
    import multiprocessing

    return not multiprocessing.active_children()


def _site() -> dict[str, Any]:
    """The student's line that touched the object."""
    root = os.environ.get(SUBMISSION_ENV, "")
    frame = sys._getframe(2)
    first = None
    while frame is not None:
        filename = frame.f_code.co_filename
        if first is None and not filename.endswith("races.py"):
            first = frame
        if root and os.path.realpath(filename).startswith(root + os.sep):
            first = frame
            break
        frame = frame.f_back
    if first is None:
        return {}
    filename = first.f_code.co_filename
    return {"file": os.path.basename(filename), "line": first.f_lineno,
            "source": linecache.getline(filename, first.f_lineno).strip()[:200]}


def _note(obj_id: str, kind: str, element: Any, flag: str) -> None:
    st = state()
    record = st.facts.setdefault(obj_id, {"kind": kind, "elements": {}})
    key = str(element)
    flags = record["elements"].setdefault(key, "")
    if flag not in flags:
        record["elements"][key] = flags + flag
        if flag in (UNLOCKED_WRITE, SPLIT) and f"site_{flag}" not in record:
            record[f"site_{flag}"] = _site()
        st.dirty = True
    if st.dirty and (flag in (UNLOCKED_WRITE, SPLIT) or time.monotonic() - st.last_flush > 0.05):
        flush()


def flush() -> None:
    """Write this process's facts to the evidence folder (atomically)."""
    st = state()
    folder = os.environ.get(EVIDENCE_ENV)
    if not folder or not st.dirty:
        return
    with st.lock:
        st.dirty = False
        st.last_flush = time.monotonic()
        data = {"pid": st.pid, "runner": _is_runner(), "objects": st.facts}
        path = os.path.join(folder, f"races-{st.pid}.json")
        tmp = path + ".tmp"
        try:
            with open(tmp, "w", encoding="utf-8") as handle:
                json.dump(data, handle)
            os.replace(tmp, path)
        except (OSError, TypeError, ValueError):
            pass


def on_read(obj_id: str, kind: str, element: Any) -> None:
    st = state()
    st.reads[(obj_id, element)] = _held()
    _note(obj_id, kind, element, READ)
    if not _is_runner():
        noise = float(os.environ.get(NOISE_ENV, DEFAULT_NOISE_S))
        if noise > 0:
            time.sleep(st.rng.uniform(0, noise))


def on_write(obj_id: str, kind: str, element: Any) -> None:
    st = state()
    held = _held()
    read_held = st.reads.pop((obj_id, element), None)
    if _runner_alone():
        _note(obj_id, kind, element, QUIET_WRITE)
        return
    _note(obj_id, kind, element, LOCKED_WRITE if held else UNLOCKED_WRITE)
    if read_held is not None and not (read_held & held):
        _note(obj_id, kind, element, SPLIT)


def _new_id() -> str:
    st = state()
    st.next_epoch += 1
    return f"{os.getpid()}-{st.next_epoch}-{id(object())}"


class TrackedLock:
    """A multiprocessing or manager lock that tells this process when it is held."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def acquire(self, *args: Any, **kwargs: Any) -> bool:
        got = self._inner.acquire(*args, **kwargs)
        if got:
            st = state()
            entry = st.held.setdefault(id(self._inner), [0, 0])
            if entry[0] == 0:
                st.next_epoch += 1
                entry[1] = st.next_epoch
            entry[0] += 1
        return got

    def release(self) -> None:
        entry = state().held.get(id(self._inner))
        if entry and entry[0] > 0:
            entry[0] -= 1
        self._inner.release()

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, *exc: Any) -> None:
        self.release()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def __reduce__(self) -> tuple:
        return (TrackedLock, (self._inner,))

    def __repr__(self) -> str:
        return repr(self._inner)


class _TrackedShared:
    """Common part of the Value and Array wrappers."""

    _kind = "value"

    def __init__(self, inner: Any, obj_id: str | None = None, lock: TrackedLock | None = None) -> None:
        object.__setattr__(self, "_inner", inner)
        object.__setattr__(self, "_id", obj_id or _new_id())
        if lock is None and hasattr(inner, "get_lock"):
            lock = TrackedLock(inner.get_lock())
        object.__setattr__(self, "_lock", lock)

    def get_lock(self) -> TrackedLock:
        if self._lock is None:
            raise AttributeError(f"{type(self._inner).__name__} object has no attribute 'get_lock'")
        return self._lock

    def acquire(self, *args: Any, **kwargs: Any) -> bool:
        return self.get_lock().acquire(*args, **kwargs)

    def release(self) -> None:
        self.get_lock().release()

    def __enter__(self) -> bool:
        return self.get_lock().__enter__()

    def __exit__(self, *exc: Any) -> None:
        self.get_lock().__exit__(*exc)

    def get_obj(self) -> Any:
        return self._inner.get_obj() if hasattr(self._inner, "get_obj") else self._inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def __reduce__(self) -> tuple:
        return (type(self), (self._inner, self._id, self._lock))

    def __repr__(self) -> str:
        return repr(self._inner)


class TrackedValue(_TrackedShared):
    """A shared Value whose reads and writes of ``.value`` are recorded."""

    @property
    def value(self) -> Any:
        on_read(self._id, "value", 0)
        return self.get_obj().value

    @value.setter
    def value(self, new: Any) -> None:
        on_write(self._id, "value", 0)
        self.get_obj().value = new


class TrackedArray(_TrackedShared):
    """A shared Array whose element reads and writes are recorded."""

    _kind = "array"

    def _indices(self, index: Any) -> range | list:
        if isinstance(index, slice):
            return range(*index.indices(len(self)))
        return [index % len(self) if isinstance(index, int) and index < 0 else index]

    def __len__(self) -> int:
        return len(self.get_obj())

    def __getitem__(self, index: Any) -> Any:
        for i in self._indices(index):
            on_read(self._id, "array", i)
        return self.get_obj()[index]

    def __setitem__(self, index: Any, value: Any) -> None:
        for i in self._indices(index):
            on_write(self._id, "array", i)
        self.get_obj()[index] = value

    def __iter__(self) -> Any:
        return iter(self[:])


class TrackedDict:
    """A Manager dict proxy whose reads and writes per key are recorded."""

    def __init__(self, inner: Any, obj_id: str | None = None) -> None:
        self._inner = inner
        self._id = obj_id or _new_id()

    def _read(self, key: Any) -> None:
        on_read(self._id, "dict", repr(key))

    def _write(self, key: Any) -> None:
        on_write(self._id, "dict", repr(key))

    def __getitem__(self, key: Any) -> Any:
        self._read(key)
        return self._inner[key]

    def get(self, key: Any, default: Any = None) -> Any:
        self._read(key)
        return self._inner.get(key, default)

    def __contains__(self, key: Any) -> bool:
        self._read(key)
        return key in self._inner

    def __setitem__(self, key: Any, value: Any) -> None:
        self._write(key)
        self._inner[key] = value

    def setdefault(self, key: Any, default: Any = None) -> Any:
        self._read(key)
        self._write(key)
        return self._inner.setdefault(key, default)

    def pop(self, key: Any, *default: Any) -> Any:
        self._write(key)
        return self._inner.pop(key, *default)

    def update(self, *args: Any, **kwargs: Any) -> None:
        for key in dict(*args, **kwargs):
            self._write(key)
        self._inner.update(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def __iter__(self) -> Any:
        return iter(self._inner.keys())

    def __len__(self) -> int:
        return len(self._inner)

    def keys(self) -> Any:
        return self._inner.keys()

    def __reduce__(self) -> tuple:
        return (TrackedDict, (self._inner, self._id))

    def __repr__(self) -> str:
        return repr(self._inner)


def _from_student() -> bool:
    root = os.environ.get(SUBMISSION_ENV, "")
    frame = sys._getframe(2)
    while frame is not None and frame.f_code.co_filename.endswith(os.path.join("multiprocessing", "context.py")):
        frame = frame.f_back
    return bool(root and frame is not None and os.path.realpath(frame.f_code.co_filename).startswith(root + os.sep))


def _wrapping(original: Any, wrap: Any) -> Any:
    def factory(*args: Any, **kwargs: Any) -> Any:
        made = original(*args, **kwargs)
        return wrap(made) if _from_student() else made

    factory.__wrapped__ = original  # type: ignore[attr-defined]
    return factory


def install() -> None:
    """Hand out tracked objects to student code from now on (runner only; children inherit by pickling)."""
    from multiprocessing import context, managers

    patches = (
        (context.BaseContext, "Value", TrackedValue), (context.BaseContext, "RawValue", TrackedValue),
        (context.BaseContext, "Array", TrackedArray), (context.BaseContext, "RawArray", TrackedArray),
        (context.BaseContext, "Lock", TrackedLock), (context.BaseContext, "RLock", TrackedLock),
        (managers.SyncManager, "dict", TrackedDict), (managers.SyncManager, "Lock", TrackedLock),
        (managers.SyncManager, "RLock", TrackedLock),
    )
    for owner, name, wrapper in patches:
        original = getattr(owner, name)
        if getattr(original, "__wrapped__", None) is None:
            setattr(owner, name, _wrapping(original, wrapper))
    # `multiprocessing.Value` and friends were bound to the default context at import.
    import multiprocessing

    for name in ("Value", "RawValue", "Array", "RawArray", "Lock", "RLock"):
        setattr(multiprocessing, name, getattr(context._default_context, name))
    state()
