"""Who may use which CPUs: the plan (pure) and the lock protocol, on faked CPU sets."""
from __future__ import annotations

import threading
import time

import pytest

from mpgrade.sandbox import cpulock
from mpgrade.sandbox.cpulock import Plan, plan


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


def test_a_long_idle_call_steps_aside_and_a_busy_one_does_not(monkeypatch):
    """IdleWatch on a faked CPU counter: nothing before LONG_CALL_S, then the window's use decides, once."""
    from mpgrade.sandbox import stepaside

    ticks = {"now": 0}
    released = []
    monkeypatch.setattr(stepaside.proctree, "subtree_cpu_ticks", lambda pid: ticks["now"])
    monkeypatch.setattr(stepaside.cpulock, "step_aside", lambda: released.append(True) or True)
    per_s = stepaside.proctree.TICKS_PER_S

    busy = stepaside.IdleWatch(1, began=0.0)
    for step in range(40):  # 10 s computing flat out: never steps aside
        now = step * 0.25
        ticks["now"] = int(now * per_s)
        busy(now)
    assert released == [] and not busy.stepped_aside

    idle = stepaside.IdleWatch(1, began=0.0)
    ticks["now"] = 500
    for step in range(40):  # waits without computing: steps aside once it has run LONG_CALL_S
        now = step * 0.25
        idle(now)
        if idle.stepped_aside:
            break
    assert released == [True] and stepaside.LONG_CALL_S <= now <= stepaside.LONG_CALL_S + 0.5


@pytest.mark.parametrize("work", ["sleep", "spin"])
def test_a_measurement_waits_for_a_computing_call_but_not_for_a_waiting_one(write_module, work):
    """Real calls: a measurement asked for while a long call runs gets the machine before that call's work ends
    when the call only waits (a deadlock), and after it when the call computes (both sides read the same
    monotonic clock: the function returns when its work ended)."""
    from pathlib import Path

    from mpgrade import CallRequest, run_call

    folder = write_module("ex00_long", """
        import time

        def sleep():
            time.sleep(9)
            return time.monotonic()

        def spin():
            end = time.monotonic() + 5
            while time.monotonic() < end:
                pass
            return time.monotonic()
    """)
    results = []
    running = threading.Event()

    def long_call() -> None:
        running.set()
        results.append(run_call(CallRequest(submission=Path(folder), module="ex00_long", target=work,
                                            timeout_s=30)))

    thread = threading.Thread(target=long_call)
    thread.start()
    running.wait(timeout=10)
    time.sleep(1.0)  # the call holds its share by now
    with cpulock.exclusive():
        measuring_at = time.monotonic()
    thread.join(timeout=60)
    assert results[0].status == "returned", results[0]
    work_ended_at = results[0].value
    if work == "sleep":
        assert measuring_at < work_ended_at - 2  # stepped aside after LONG_CALL_S, not at the end of its sleep
    else:
        assert measuring_at >= work_ended_at
