"""Settings: one definition each, precedence command line > environment > ini > default."""
from __future__ import annotations


import pytest

from mpgrade.settings import KIT_ROOT, SettingError, platform_start_method, resolve


def lookup(values):
    return lambda name: values.get(name)


def test_defaults_grade_the_kits_exercises_under_the_platforms_strict_start_method():
    settings = resolve(lookup({}), lookup({}), environ={})
    assert settings.submission == KIT_ROOT / "exercises"
    assert settings.start_method == platform_start_method()
    assert settings.timeout_factor == 1.0
    assert settings.seed is None and settings.report is None


@pytest.mark.parametrize("platform, method", [
    ("linux", "forkserver"), ("darwin", "spawn"), ("win32", "spawn"), ("cygwin", "spawn"), ("freebsd14", "spawn"),
])
def test_default_start_method_is_forkserver_on_linux_and_spawn_elsewhere(platform, method):
    assert platform_start_method(platform) == method


def test_command_line_beats_environment_beats_ini():
    env = {"MPGRADE_START_METHOD": "forkserver", "MPGRADE_TIMEOUT_FACTOR": "3"}
    ini = {"start_method": "fork", "timeout_factor": "2", "seed": "9"}
    settings = resolve(lookup({"start_method": "spawn"}), lookup(ini), environ=env)
    assert settings.start_method == "spawn"
    assert settings.timeout_factor == 3.0
    assert settings.seed == 9


def test_paths_are_resolved(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = resolve(lookup({"submission": "sub", "report": "out/r.json"}), lookup({}), environ={})
    assert settings.submission == tmp_path / "sub"
    assert settings.report == tmp_path / "out" / "r.json"


@pytest.mark.parametrize("env, message", [
    ({"MPGRADE_TIMEOUT_FACTOR": "0"}, "Invalid timeout factor '0' from MPGRADE_TIMEOUT_FACTOR environment variable"),
    ({"MPGRADE_TIMEOUT_FACTOR": "slow"}, "Invalid timeout factor 'slow' from MPGRADE_TIMEOUT_FACTOR"),
    ({"MPGRADE_SEED": "x1"}, "Invalid seed 'x1' from MPGRADE_SEED environment variable"),
])
def test_bad_values_name_themselves_and_their_source(env, message):
    with pytest.raises(SettingError, match=message):
        resolve(lookup({}), lookup({}), environ=env)


def test_bad_ini_value_names_the_ini_key():
    with pytest.raises(SettingError, match="from mpgrade_start_method ini key: choose one of"):
        resolve(lookup({}), lookup({"start_method": "threads"}), environ={})


def test_mpgrade_check_uses_a_worker_per_usable_cpu_only_for_two_exercises_or_more():
    from mpgrade.cli import default_workers

    assert default_workers(exercises=10, usable_cpus=2) == "2"
    assert default_workers(exercises=10, usable_cpus=64) == "4"  # each worker pays pytest's start-up
    assert default_workers(exercises=3, usable_cpus=8) == "3"  # no idle worker
    assert default_workers(exercises=1, usable_cpus=8) is None  # a few checks: not worth a worker's start
    assert default_workers(exercises=10, usable_cpus=1) is None  # one CPU: serial, as before
