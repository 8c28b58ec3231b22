"""Who may use which CPUs: the plan (pure) and the lock protocol, on faked CPU sets."""
from __future__ import annotations

import threading
import time

import pytest

from mpgrade import cpulock
from mpgrade.cpulock import Plan, plan


@pytest.fixture(autouse=True)
def private_locks(tmp_path, monkeypatch):
    monkeypatch.setenv("MPGRADE_LOCK_DIR", str(tmp_path))


def test_a_small_machine_is_measured_whole():
    assert plan([0, 1], (), need=2) == Plan("whole", (0, 1))  # 2 CPUs: nothing would be left for the rest
    assert plan([0], (), need=2).action == "whole"


def test_a_large_machine_gives_each_measurement_its_own_cpus_and_keeps_some_free():
    usable = list(range(8))
    first = plan(usable, (), need=2)
    assert first == Plan("take", (0, 1))
    second = plan(usable, first.cpus, need=2)
    assert second == Plan("take", (2, 3))
    assert plan(usable, (0, 1, 2, 3, 4, 5), need=2) == Plan("wait")  # would leave no CPU for other grading
    assert plan(usable, (0, 1, 2, 3, 4), need=2, keep_free=1) == Plan("take", (5, 6))


def test_two_measurements_get_disjoint_cpus_and_ordinary_work_gets_the_rest():
    usable = list(range(6))
    seen: dict[str, tuple] = {}
    inside = threading.Barrier(3)
    done = threading.Event()

    def measure(name: str) -> None:
        with cpulock.measurement(2, usable=usable, poll_s=0.01) as cpus:
            seen[name] = cpus
            inside.wait(timeout=10)
            done.wait(timeout=10)

    threads = [threading.Thread(target=measure, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    inside.wait(timeout=10)
    with cpulock.shared(usable=usable) as allowed:
        seen["ordinary"] = allowed
    done.set()
    for thread in threads:
        thread.join(timeout=10)
    assert len(set(seen["a"]) | set(seen["b"])) == 4 and not set(seen["a"]) & set(seen["b"])
    assert set(seen["ordinary"]) == set(usable) - set(seen["a"]) - set(seen["b"])
    with cpulock.shared(usable=usable) as allowed:
        assert allowed is None  # nobody measures: no restriction


def test_a_measurement_waits_for_calls_running_on_its_cpus():
    usable = list(range(4))
    order = []
    started = threading.Event()

    def ordinary() -> None:
        with cpulock.shared(usable=usable):
            started.set()
            time.sleep(0.3)
            order.append("call ended")

    thread = threading.Thread(target=ordinary)
    thread.start()
    started.wait(timeout=10)
    with cpulock.measurement(2, usable=usable, poll_s=0.01) as cpus:
        order.append(f"measuring on {cpus}")
    thread.join()
    assert order == ["call ended", "measuring on (0, 1)"]


def test_calls_inside_a_measurement_run_on_its_cpus():
    with cpulock.measurement(2, usable=list(range(8)), poll_s=0.01) as cpus:
        with cpulock.shared(usable=list(range(8))) as allowed:
            assert allowed == cpus == (0, 1)
    with cpulock.measurement(2, usable=[0, 1]) as whole:
        with cpulock.shared(usable=[0, 1]) as allowed:
            assert whole is None and allowed is None


def test_a_sandboxed_call_runs_on_the_cpus_it_was_given(write_module):
    """Real CPUs: a 1-CPU measurement on this machine leaves the other CPU free; the student's code sees one."""
    import sys
    from pathlib import Path

    from mpgrade import CallRequest, run_call

    folder = write_module("ex00_cpus", """
        import os

        def where():
            return sorted(os.sched_getaffinity(0)), os.cpu_count()
    """)
    usable = cpulock.machine_cpus()
    if len(usable) < 2:
        pytest.skip("needs 2 CPUs")
    with cpulock.measurement(1, usable=usable, keep_free=1, poll_s=0.01) as cpus:
        result = run_call(CallRequest(submission=Path(folder), module="ex00_cpus", target="where"))
    affinity, count = result.value
    assert affinity == list(cpus) == [usable[0]]
    if sys.version_info >= (3, 13):
        assert count == 1  # PYTHON_CPU_COUNT


def test_a_whole_machine_measurement_waits_for_measurements_on_cpu_sets():
    usable = list(range(8))
    order = []
    inside = threading.Event()

    def on_a_set() -> None:
        with cpulock.measurement(2, usable=usable, poll_s=0.01):
            inside.set()
            time.sleep(0.3)
            order.append("set done")

    thread = threading.Thread(target=on_a_set)
    thread.start()
    inside.wait(timeout=10)
    with cpulock.exclusive():
        order.append("whole machine")
    thread.join()
    assert order == ["set done", "whole machine"]
