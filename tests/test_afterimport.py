"""Patches wait for their module's first import; a call that uses none of those modules does not import them."""
from __future__ import annotations

import sys

import pytest

from mpgrade import CallRequest, run_call
from mpgrade.verdicts.evidence import calls
from mpgrade_sandboxed import afterimport


@pytest.fixture
def fresh_module(tmp_path, monkeypatch):
    """The name of a module not imported yet (its file defines VALUE = 1)."""
    (tmp_path / "mpgrade_probe_mod.py").write_text("VALUE = 1\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "mpgrade_probe_mod", raising=False)
    yield "mpgrade_probe_mod"
    sys.modules.pop("mpgrade_probe_mod", None)
    afterimport._waiting.pop("mpgrade_probe_mod", None)


def test_the_hook_runs_after_the_module_code_and_before_the_import_returns(fresh_module):
    seen = []
    afterimport.when_imported(fresh_module, lambda module: seen.append(module.VALUE))
    assert seen == []
    module = __import__(fresh_module)
    assert seen == [1] and module.VALUE == 1
    __import__(fresh_module)  # once only
    assert seen == [1] and afterimport._FINDER not in sys.meta_path


def test_a_module_already_imported_is_hooked_at_once(fresh_module):
    __import__(fresh_module)
    seen = []
    afterimport.when_imported(fresh_module, lambda module: seen.append(module.__name__))
    assert seen == [fresh_module]


def test_a_call_that_starts_nothing_imports_no_pool_manager_or_executor(write_module):
    folder = write_module("mod", """
        import sys

        def run():
            return sorted(sys.modules)
    """)
    result = run_call(CallRequest(folder, "mod", "run", timeout_s=30))
    assert result.status == "returned", result.error
    heavy = {"multiprocessing.pool", "multiprocessing.managers", "multiprocessing.shared_memory",
             "concurrent.futures.process"}
    assert heavy.isdisjoint(result.value)


@pytest.mark.parametrize("start_method", ["fork", "forkserver"])
def test_apis_of_modules_the_student_imports_late_are_still_counted(write_module, start_method):
    folder = write_module("mod", """
        def square(x):
            return x * x

        def run():
            import concurrent.futures
            from multiprocessing import Pool
            with Pool(2) as pool:
                squares = pool.map(square, range(4))
            with concurrent.futures.ProcessPoolExecutor(2) as executor:
                squares += [executor.submit(square, 5).result()]
            return squares
    """)
    result = run_call(CallRequest(folder, "mod", "run", start_method=start_method, timeout_s=30))
    assert result.status == "returned", result.error
    assert result.value == [0, 1, 4, 9, 25]
    assert calls(result, "Pool.map") == 1 and calls(result, "ProcessPoolExecutor.submit") == 1
