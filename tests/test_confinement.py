"""Confinement: the rules the trusted side writes, the report's words, --require-confinement.

What Landlock refuses to real student code is tested by the hostile battery (test_hostile.py); here, the
rules themselves and what a user is told."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from conftest import KIT_ROOT
from mpgrade.sandbox import confinement, seatbelt
from mpgrade.sandbox.runtime import runtime_parent


def test_the_rules_never_reach_the_kit_but_for_the_python_environment_and_the_submission(tmp_path):
    submission = KIT_ROOT / "exercises"
    rules = confinement.rules(tmp_path, submission, runtime_parent())
    kit = KIT_ROOT.resolve()
    for path in map(Path, rules["read"]):
        if path == kit or kit in path.parents:
            assert path == submission.resolve() or Path(sys.prefix).resolve() in (path, *path.parents), path
    assert str(kit) not in rules["read"] and str(kit / "solutions") not in rules["read"]
    assert str(tmp_path.resolve()) in rules["write"] and "/dev/shm" in rules["write"]
    assert not any(Path(p) == Path.home() for p in rules["read"])


def test_a_folder_holding_the_kit_is_granted_as_its_other_entries(tmp_path):
    (tmp_path / "kit" / "solutions").mkdir(parents=True)
    (tmp_path / "lib").mkdir()
    (tmp_path / "share" / "x").mkdir(parents=True)
    kept = confinement._without(tmp_path, tmp_path / "kit" / "solutions")
    assert sorted(kept) == [tmp_path / "lib", tmp_path / "share"]
    assert confinement._without(tmp_path / "lib", tmp_path / "kit") == [tmp_path / "lib"]


def test_the_seatbelt_profile_denies_by_default_and_lists_only_the_rules_paths(tmp_path):
    text = seatbelt.profile(["/opt/py", '/odd "name"'], [str(tmp_path)])
    assert text.startswith("(version 1)\n(deny default)")
    assert '(subpath "/opt/py")' in text and '(subpath "/odd \\"name\\"")' in text
    assert f'(allow file-read* file-write* (subpath "{tmp_path}"))' in text
    assert "(allow network*" in text and "(local unix)" in text and "network-outbound" not in text


def test_the_report_says_which_levels_confine_student_code(monkeypatch):
    both_off = confinement.describe("off", "off")
    assert both_off == {"levels": ["process"], "confined": False, "note": both_off["note"]}
    assert "Landlock off" in both_off["note"]
    assert "not confined" in confinement.unconfined_warning(both_off)
    works, _ = confinement.available()
    on = confinement.describe("off", "auto")
    assert on["confined"] == works and (("landlock" in on["levels"]) == works)
    assert confinement.unconfined_warning(on) == ("" if works else confinement.unconfined_warning(on))


def test_require_confinement_refuses_to_grade_without_it(tmp_path):
    """Both levels off: mpgrade check --require-confinement says why and exits 2 before any student code runs."""
    env = {"MPGRADE_NAMESPACES": "off", "MPGRADE_LANDLOCK": "off", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    done = subprocess.run([str(Path(sys.executable).with_name("mpgrade")), "check", "--require-confinement", "ex01"],
                          capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert "would not be confined" in done.stderr and "Landlock off" in done.stderr
    assert "ex01" not in done.stdout


@pytest.mark.skipif(not confinement.available()[0], reason="Landlock is not available here")
def test_a_confined_call_still_runs_every_start_method(tmp_path):
    from mpgrade.sandbox.launcher import CallRequest, run_call

    documents = ["a b a", "b c", "a"]
    for method in ("fork", "spawn", "forkserver"):  # a Manager's server and its AF_UNIX socket in TMPDIR
        result = run_call(CallRequest(submission=KIT_ROOT / "solutions", module="ex07_manager",
                                      target="word_counts", args=(documents, 2), start_method=method,
                                      namespaces="off", landlock="auto"))
        assert result.status == "returned", (method, result.error, result.detail)
        assert result.value == {"a": 3, "b": 2, "c": 1}
