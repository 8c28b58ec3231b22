"""Usable CPUs: affinity, cgroup quotas (faked in a temp dir), Python's own count, overrides."""
from __future__ import annotations

import os

import pytest

from mpgrade.sandbox.machine import cgroup_v1_quota, cgroup_v2_quota, cpu_budget

AFFINITY = len(os.sched_getaffinity(0))


@pytest.mark.parametrize("text, expected", [
    ("max 100000", None), ("50000 100000", 0.5), ("150000 100000", 1.5), ("garbage", None), ("", None),
])
def test_cgroup_v2_cpu_max(tmp_path, text, expected):
    (tmp_path / "cpu.max").write_text(text + "\n")
    assert cgroup_v2_quota(tmp_path) == expected


@pytest.mark.parametrize("quota, period, expected", [("-1", "100000", None), ("90000", "100000", 0.9),
                                                     ("200000", "100000", 2.0)])
def test_cgroup_v1_cfs_quota(tmp_path, quota, period, expected):
    folder = tmp_path / "cpu,cpuacct"
    folder.mkdir()
    (folder / "cpu.cfs_quota_us").write_text(quota)
    (folder / "cpu.cfs_period_us").write_text(period)
    assert cgroup_v1_quota(tmp_path) == expected


def test_the_smallest_limit_wins_and_half_a_cpu_is_one_usable(tmp_path):
    (tmp_path / "cpu.max").write_text("50000 100000\n")
    budget = cpu_budget(environ={}, cgroup_root=tmp_path)
    assert budget.cpus == 0.5 and budget.usable == 1
    assert budget.sources["cgroup_v2"] == 0.5 and budget.sources["affinity"] == AFFINITY


def test_no_limits_means_the_affinity(tmp_path):
    budget = cpu_budget(environ={}, cgroup_root=tmp_path)
    assert budget.cpus == min(v for k, v in budget.sources.items())
    assert budget.usable == min(AFFINITY, os.cpu_count())


def test_python_cpu_count_lowers_and_mpgrade_cpus_overrides(tmp_path):
    assert cpu_budget(environ={"PYTHON_CPU_COUNT": "1"}, cgroup_root=tmp_path).usable == 1
    assert cpu_budget(environ={"MPGRADE_CPUS": "8"}, cgroup_root=tmp_path).cpus == 8
    assert cpu_budget(environ={"MPGRADE_CPUS": "x"}, cgroup_root=tmp_path).usable == min(AFFINITY, os.cpu_count())
