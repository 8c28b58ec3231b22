"""Run a function on a module right after its first import (sandbox side, in the runner).

The runner's spies (``spies.py``) and ``poolwatch.py`` patch classes of
``multiprocessing.pool``, ``.managers``, ``.shared_memory`` and
``concurrent.futures``. Importing all of them before the student's module
cost every call ~30 ms of a ~90 ms runner start, and most calls use none of
them; so each patch waits here until student code (or multiprocessing on its
behalf, e.g. ``multiprocessing.Pool()``) first imports its module, and is
applied before that import returns. ``wrapt.register_post_import_hook``
does the same, but importing wrapt costs 60-75 ms here: more than it saves.
"""
from __future__ import annotations

import sys
from types import ModuleType
from typing import Any, Callable

Hook = Callable[[ModuleType], None]
_waiting: dict[str, list[Hook]] = {}


def when_imported(name: str, hook: Hook) -> None:
    """Call ``hook(module)`` once ``name`` is imported: now if it already is, else right after its import."""
    module = sys.modules.get(name)
    if module is not None:
        hook(module)
        return
    _waiting.setdefault(name, []).append(hook)
    if _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)


class _Finder:
    """A ``sys.meta_path`` entry that finds nothing itself: it asks the finders after it, and wraps the loader of
    a module someone waits for so the hooks run once the module's code has."""

    def find_spec(self, name: str, path: Any, target: Any = None) -> Any:
        if name not in _waiting:
            return None
        for finder in sys.meta_path:
            find = getattr(finder, "find_spec", None)
            if finder is self or find is None:
                continue
            spec = find(name, path, target)
            if spec is not None:
                break
        else:
            return None
        loader = spec.loader
        if loader is not None and hasattr(loader, "exec_module"):
            loader.exec_module = _then_hooks(name, loader.exec_module)  # this spec's own loader instance
        return spec


def _then_hooks(name: str, exec_module: Callable[[ModuleType], None]) -> Callable[[ModuleType], None]:
    def run(module: ModuleType) -> None:
        exec_module(module)
        for hook in _waiting.pop(name, ()):
            hook(module)
        if not _waiting and _FINDER in sys.meta_path:
            sys.meta_path.remove(_FINDER)

    return run


_FINDER = _Finder()
