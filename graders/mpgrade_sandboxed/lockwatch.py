"""The lock recorder: how shared objects are used, and under which lock (sandbox side).

Runs next to student code: in the runner and, for race checks, in every child
process. It is the one recorder of lock use around shared objects; two users
read it:

- race checks (``student.call(..., races=True)``): :func:`install` runs in the
  runner before the student module is imported. Shared objects and locks that
  *student code* creates through ``multiprocessing`` (the APIs in
  :data:`TRACKED`) are handed out as thin tracked wrappers. The wrappers
  pickle as themselves, so a child started with spawn or forkserver imports
  this module when it unpickles its arguments and goes on tracking; under
  fork the child simply inherits them.
- the lock-discipline drivers (``drivers.value_discipline``,
  ``drivers.array_discipline``) wrap one object themselves and call the
  student's function on it in the runner; :func:`summary` says how it went.

Every process records, per shared element (a Value, an Array index, a dict key):
- whether each write happened while the process held a tracked lock,
- whether a read and the write after it fell inside one continuous hold of
  one lock (catches "lock only around the read" and "only around the write").
During a race check it writes these facts to ``races-<pid>.json`` in the
call's evidence folder. The trusted side combines the processes
(``mpgrade.verdicts.races``): an element written by two or more processes, one of them
without a lock, is a race, whether or not the processes happened to overlap
in time. Disjoint slices without a lock, or reads after joining, are not races.
Per object, each process also counts reads and writes, unprotected ones and
the student's line of the first access without a lock (what :func:`summary`
returns; it stays in the process).

Noise: during a race check, after each read in a child process the tracked
object sleeps a little, so the lost update that the missing lock allows
really happens and shows in the counts too.

The recording and the tracked stand-ins share this one module on purpose
(hence its length, past 300 lines): the stand-ins pickle as themselves, and a spawned child
that unpickles one imports exactly this module and goes on recording.
"""
from __future__ import annotations

import importlib
import json
import os
import random
import threading
import time
from typing import Any

from mpgrade_sandboxed.locate import called_from_student, student_site
from mpgrade_sandboxed.tasks import EVIDENCE_ENV
RUNNER_ENV = "MPGRADE_RUNNER_PID"
"""Set (to the runner's PID) only while race checks are on; every child inherits it."""
NOISE_ENV = "MPGRADE_RACE_NOISE_S"
DEFAULT_NOISE_S = 0.0002
READ, LOCKED_WRITE, UNLOCKED_WRITE, SPLIT, QUIET_WRITE = "r", "L", "U", "S", "Q"
MAX_HOLDS_KEPT = 1_000_000
TRACE_KEPT = 128
"""Accesses kept with their values, per child process and object, during a race check: enough for the
trusted side to find one lost update and show it (who read what, who wrote what, in which order)."""


class _Tally:
    """One object's use in this process, access by access (a slice is one access)."""

    def __init__(self) -> None:
        self.reads = 0
        self.writes = 0
        self.unlocked_writes = 0
        self.split = 0
        self.write_holds: set[frozenset] = set()
        self.first_unlocked: dict[str, Any] | None = None


class _State:
    """What this process knows: held locks, pending reads, facts to report."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.next_epoch = 0
        self.held: dict[int, list[int]] = {}  # id(lock) -> [depth, epoch]
        self.reads: dict[tuple, frozenset] = {}
        self.facts: dict[str, dict[str, Any]] = {}
        self.tallies: dict[str, _Tally] = {}
        self.trace: dict[str, list[list[Any]]] = {}
        self.last_written: dict[tuple[str, str], Any] = {}
        self.contended: set[str] = set()
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


def _racing() -> bool:
    """Race checks are on for this call (the runner said so before importing the student)."""
    return RUNNER_ENV in os.environ


def _is_runner() -> bool:
    return str(os.getpid()) == os.environ.get(RUNNER_ENV)


def _runner_alone() -> bool:
    """In the runner with no child process alive: nothing can run at the same time."""
    if not _is_runner():
        return False
    import multiprocessing

    return not multiprocessing.active_children()


def _note(obj_id: str, kind: str, element: Any, flag: str) -> None:
    st = state()
    record = st.facts.setdefault(obj_id, {"kind": kind, "elements": {}})
    key = str(element)
    flags = record["elements"].setdefault(key, "")
    if flag not in flags:
        record["elements"][key] = flags + flag
        if flag in (UNLOCKED_WRITE, SPLIT) and f"site_{flag}" not in record:
            record[f"site_{flag}"] = student_site()
        st.dirty = True
    if st.dirty and (flag in (UNLOCKED_WRITE, SPLIT) or time.monotonic() - st.last_flush > 0.05):
        flush()


def _tally(obj_id: str, op: str, held: frozenset) -> _Tally:
    tally = state().tallies.setdefault(obj_id, _Tally())
    if not held and tally.first_unlocked is None:
        tally.first_unlocked = {"op": op, **student_site()}
    return tally


def flush() -> None:
    """Write this process's facts to the evidence folder (atomically), during a race check."""
    st = state()
    folder = os.environ.get(EVIDENCE_ENV)
    if not folder or not st.dirty or not _racing():
        return
    with st.lock:
        st.dirty = False
        st.last_flush = time.monotonic()
        data = {"pid": st.pid, "runner": _is_runner(), "objects": st.facts, "trace": st.trace}
        path = os.path.join(folder, f"races-{st.pid}.json")
        tmp = path + ".tmp"
        try:
            with open(tmp, "w", encoding="utf-8") as handle:
                json.dump(data, handle)
            os.replace(tmp, path)
        except (OSError, TypeError, ValueError):
            pass


def on_read(obj_id: str, kind: str, elements: Any) -> None:
    """Student code reads ``elements`` of a shared object (one access)."""
    st = state()
    held = _held()
    _tally(obj_id, "read", held).reads += 1
    noisy = _racing() and not _is_runner()
    for element in elements:
        st.reads[(obj_id, element)] = held
        _note(obj_id, kind, element, READ)
        if noisy:
            noise = float(os.environ.get(NOISE_ENV, DEFAULT_NOISE_S))
            if noise > 0:
                time.sleep(st.rng.uniform(0, noise))


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return repr(value)[:40]


def traced(obj_id: str, element: Any, op: str, value: Any) -> None:
    """Keep one access with its value and time (CLOCK_MONOTONIC, the same clock in every process) and the
    student's line, in a child process during a race check.

    Kept from the moment another process is seen at work on the object (a read that finds another value than
    this process last wrote there), for ``TRACE_KEPT`` accesses: the stretch where updates can be lost, not
    the start, which another process may not have reached yet."""
    if not _racing() or _is_runner():
        return
    st = state()
    key = (obj_id, str(element))
    if op == "wrote":
        st.last_written[key] = value
    elif key in st.last_written and st.last_written[key] != value:
        st.contended.add(obj_id)
    if obj_id not in st.contended:
        return
    events = st.trace.setdefault(obj_id, [])
    if len(events) < TRACE_KEPT:
        events.append([time.monotonic(), str(element), op, _plain(value), student_site().get("line")])
        st.dirty = True


def on_write(obj_id: str, kind: str, elements: Any) -> None:
    """Student code writes ``elements`` of a shared object (one access)."""
    st = state()
    held = _held()
    tally = _tally(obj_id, "write", held)
    tally.writes += 1
    if held:
        if len(tally.write_holds) < MAX_HOLDS_KEPT:
            tally.write_holds.add(held)
    else:
        tally.unlocked_writes += 1
    quiet = _runner_alone()
    split = False
    for element in elements:
        read_held = st.reads.pop((obj_id, element), None)
        if quiet:
            _note(obj_id, kind, element, QUIET_WRITE)
            continue
        _note(obj_id, kind, element, LOCKED_WRITE if held else UNLOCKED_WRITE)
        if read_held is not None and not (read_held & held):
            split = True
            _note(obj_id, kind, element, SPLIT)
    if split:
        tally.split += 1


def summary(obj: Any) -> dict[str, Any]:
    """How this process used one tracked object: counts per access, and the first access without a lock.

    ``split_read_writes`` counts writes whose element was read before, not
    inside the same continuous hold of a lock; ``write_holds`` the distinct
    holds that writes happened in; ``lock_holds`` how often the object's own
    lock was taken.
    """
    tally = state().tallies.get(obj._id) or _Tally()
    lock = obj._lock
    return {"writes": tally.writes, "reads": tally.reads,
            "unlocked_writes": tally.unlocked_writes, "split_read_writes": tally.split,
            "write_holds": len(tally.write_holds),
            "lock_holds": lock._holds if lock is not None else 0,
            "first_unlocked": tally.first_unlocked}


def _new_id() -> str:
    st = state()
    st.next_epoch += 1
    return f"{os.getpid()}-{st.next_epoch}-{id(object())}"


class TrackedLock:
    """A multiprocessing or manager lock that tells this process when it is held."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self._holds = 0
        """Continuous holds taken through this wrapper in this process."""

    def acquire(self, *args: Any, **kwargs: Any) -> bool:
        got = self._inner.acquire(*args, **kwargs)
        if got:
            st = state()
            entry = st.held.setdefault(id(self._inner), [0, 0])
            if entry[0] == 0:
                st.next_epoch += 1
                entry[1] = st.next_epoch
                self._holds += 1
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
        return self._raw()

    def _raw(self) -> Any:
        return self._inner.get_obj() if hasattr(self._inner, "get_obj") else self._inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def __reduce__(self) -> tuple:
        return (type(self), (self._inner, self._id, self._lock))

    def __repr__(self) -> str:
        return repr(self._inner)


class TrackedValue(_TrackedShared):
    """A shared Value whose reads and writes of ``.value`` are recorded, also through ``get_obj()``."""

    @property
    def value(self) -> Any:
        on_read(self._id, "value", (0,))
        value = self._raw().value
        traced(self._id, 0, "read", value)
        return value

    @value.setter
    def value(self, new: Any) -> None:
        on_write(self._id, "value", (0,))
        self._raw().value = new
        traced(self._id, 0, "wrote", new)

    def get_obj(self) -> Any:
        """``counter.get_obj().value += 1`` goes around the synchronized wrapper: recorded all the same."""
        return _TrackedCell(self)


class _TrackedCell:
    """What a TrackedValue's ``get_obj()`` hands out: the ctypes object, its ``.value`` recorded."""

    def __init__(self, owner: TrackedValue) -> None:
        object.__setattr__(self, "_owner", owner)

    @property
    def value(self) -> Any:
        return self._owner.value

    @value.setter
    def value(self, new: Any) -> None:
        self._owner.value = new

    def __getattr__(self, name: str) -> Any:
        return getattr(self._owner._raw(), name)

    def __repr__(self) -> str:
        return repr(self._owner._raw())


class TrackedArray(_TrackedShared):
    """A shared Array whose element reads and writes are recorded."""

    _kind = "array"

    def _indices(self, index: Any) -> range | list:
        if isinstance(index, slice):
            return range(*index.indices(len(self)))
        return [index % len(self) if isinstance(index, int) and index < 0 else index]

    def __len__(self) -> int:
        return len(self._raw())

    def __getitem__(self, index: Any) -> Any:
        on_read(self._id, "array", self._indices(index))
        value = self._raw()[index]
        if isinstance(index, int):
            traced(self._id, self._indices(index)[0], "read", value)
        return value

    def __setitem__(self, index: Any, value: Any) -> None:
        on_write(self._id, "array", self._indices(index))
        self._raw()[index] = value
        if isinstance(index, int):
            traced(self._id, self._indices(index)[0], "wrote", value)

    def __iter__(self) -> Any:
        return iter(self[:])


class TrackedDict:
    """A Manager dict proxy whose reads and writes per key are recorded."""

    def __init__(self, inner: Any, obj_id: str | None = None) -> None:
        self._inner = inner
        self._id = obj_id or _new_id()

    def _read(self, key: Any) -> None:
        on_read(self._id, "dict", (repr(key),))

    def _write(self, key: Any) -> None:
        on_write(self._id, "dict", (repr(key),))

    def __getitem__(self, key: Any) -> Any:
        self._read(key)
        value = self._inner[key]
        traced(self._id, repr(key), "read", value)
        return value

    def get(self, key: Any, default: Any = None) -> Any:
        self._read(key)
        value = self._inner.get(key, default)
        traced(self._id, repr(key), "read", value)
        return value

    def __contains__(self, key: Any) -> bool:
        self._read(key)
        return key in self._inner

    def __setitem__(self, key: Any, value: Any) -> None:
        self._write(key)
        self._inner[key] = value
        traced(self._id, repr(key), "wrote", value)

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


def _wrapping(original: Any, wrap: Any) -> Any:
    def factory(*args: Any, **kwargs: Any) -> Any:
        made = original(*args, **kwargs)
        return wrap(made) if called_from_student() else made

    factory.__wrapped__ = original  # type: ignore[attr-defined]
    return factory


TRACKED = (
    ("multiprocessing.context:BaseContext", ("Value", "RawValue"), TrackedValue),
    ("multiprocessing.context:BaseContext", ("Array", "RawArray"), TrackedArray),
    ("multiprocessing.context:BaseContext", ("Lock", "RLock"), TrackedLock),
    ("multiprocessing.managers:SyncManager", ("dict",), TrackedDict),
    ("multiprocessing.managers:SyncManager", ("Lock", "RLock"), TrackedLock),
)
"""The multiprocessing APIs whose objects are handed out tracked: (owner, methods, wrapper)."""


def install() -> None:
    """Hand out tracked objects to student code from now on (runner only; children inherit by pickling)."""
    import multiprocessing
    from multiprocessing import context

    for owner_name, names, wrapper in TRACKED:
        module_name, _, class_name = owner_name.partition(":")
        owner = getattr(importlib.import_module(module_name), class_name)
        for name in names:
            original = getattr(owner, name)
            if getattr(original, "__wrapped__", None) is None:
                setattr(owner, name, _wrapping(original, wrapper))
            # `multiprocessing.Value` and friends were bound to the default context at import.
            if owner is context.BaseContext:
                setattr(multiprocessing, name, getattr(context._default_context, name))
    state()
