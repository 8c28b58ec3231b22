"""Timelines of a call's processes and the lost update of a race, drawn from witnessed data (no sandbox here)."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from mpgrade import CallResult
from mpgrade.reporters import timeline as drawn
from mpgrade.verdicts import timeline
from mpgrade.verdicts.races import lost_update, lost_update_text

T0 = 1_700_000_000.0


def _call(runs: list[tuple[int, float, float]], workers: list[int], caller: int = 100, role: str = "process"):
    processes = [{"pid": pid, "role": role, "target": "work", "start": T0 + 0.01 * i, "last_seen": T0 + 3.0}
                 for i, pid in enumerate(workers)]
    evidence = [{"task": "sleep_square", "args": [n], "pid": pid, "start": T0 + start, "end": T0 + end}
                for n, (pid, start, end) in enumerate(runs)]
    return CallResult(status="returned", phase="done", witnessed=True, processes=processes, evidence=evidence,
                      runner_pid=caller)


def test_processes_that_ran_one_after_another_show_no_overlap_and_say_so():
    built = timeline.build(_call([(1, 0.1, 1.0), (2, 1.0, 2.0), (3, 2.0, 3.0)], [1, 2, 3]))
    assert timeline.max_overlap(built) == 1
    assert "No two task runs overlapped" in built["says"] and "one after another" in built["says"]
    assert [lane["name"] for lane in built["lanes"]] == ["caller", "worker 1", "worker 2", "worker 3"]


def test_processes_at_the_same_time_overlap_and_say_nothing_wrong():
    built = timeline.build(_call([(1, 0.1, 1.0), (2, 0.1, 1.0), (3, 0.2, 1.1)], [1, 2, 3]))
    assert timeline.max_overlap(built) == 3 and built["says"] == ""


def test_all_work_in_the_caller_and_one_busy_worker_are_named():
    in_caller = timeline.build(_call([(100, 0.1, 0.5), (100, 0.5, 0.9)], []))
    assert "in one process" in in_caller["says"]
    busy = timeline.build(_call([(1, 0.1 * i, 0.1 * i + 0.2) for i in range(8)] + [(2, 0.0, 0.2)], [1, 2],
                                role="pool"))
    assert "worker 1 ran 8 of 9 tasks" in busy["says"]


def test_consumers_started_only_after_the_producer_ended_are_named():
    result = _call([(2, 1.5, 1.7), (3, 1.5, 1.8)], [2, 3])
    for process in result.processes:
        process["start"] += 1.45
    result.processes.insert(0, {"pid": 9, "role": "process", "target": "produce", "start": T0, "last_seen": T0 + 1.4})
    built = timeline.build(result)
    assert "started only after worker 1 (produce) had ended" in built["says"]
    for process in result.processes[1:]:  # consumers running beside the producer: nothing to say
        process["start"] -= 1.45
    assert timeline.build(result)["says"] == ""


def test_tiny_tasks_in_order_or_in_one_worker_say_nothing():
    assert timeline.build(_call([(1, 0.1, 0.101), (2, 0.2, 0.201), (1, 0.3, 0.301)], [1, 2]))["says"] == ""


def test_no_runs_no_timeline():
    assert timeline.build(_call([], [1, 2])) is None
    assert timeline.build(CallResult(status="returned", phase="done")) is None


def test_the_text_fits_80_columns_and_shows_the_bars_apart():
    built = timeline.build(_call([(1, 0.1, 1.0), (2, 1.0, 2.0), (3, 2.0, 3.0)], [1, 2, 3]))
    lines = drawn.text(built)
    assert all(len(line) <= 78 for line in lines), [len(line) for line in lines]
    rows = {line.split()[0] + line.split()[1]: line for line in lines if line.startswith("  worker ")}
    first, second = rows["worker1"].index("#"), rows["worker2"].index("#")
    assert first < second and rows["worker1"].rstrip().rindex("#") <= second
    assert "No two task runs overlapped" in " ".join(line.strip() for line in lines[-2:])


def test_the_svg_reads_without_colour_and_has_a_text_alternative_per_bar():
    built = timeline.build(_call([(1, 0.1, 1.0), (2, 1.0, 2.0)], [1, 2]))
    root = ET.fromstring(drawn.svg(built))
    ns = "{http://www.w3.org/2000/svg}"
    assert root.get("role") == "img" and "No two task runs overlapped" in root.get("aria-label")
    bars = [rect for rect in root.iter(f"{ns}rect") if rect.get("fill") == "url(#run)"]
    assert len(bars) == 2
    assert all(bar.get("aria-label") and bar.find(f"{ns}title").text.startswith("worker") for bar in bars)
    assert root.find(f"{ns}defs/{ns}pattern") is not None  # hatching, not a colour, marks a task running


def _trace(pid: int, *events) -> dict:
    return {"pid": pid, "objects": {"v": {"kind": "value", "elements": {"0": "U"}}},
            "trace": {"v": [[T0 + when, "0", op, value, 19] for when, op, value in events]}}


def test_a_lost_update_is_found_in_the_recorded_order_and_shown_in_two_rows():
    result = CallResult(status="returned", phase="done", races=[
        _trace(11, (0.001, "read", 41), (0.003, "wrote", 42)),
        _trace(12, (0.002, "read", 41), (0.004, "wrote", 42))])
    update = lost_update(result)
    assert [(s["process"], s["op"], s["value"]) for s in update["steps"]] == [
        ("A", "read", 41), ("B", "read", 41), ("A", "wrote", 42), ("B", "wrote", 42)]
    text = lost_update_text(update, Path("ex05_counter.py"))
    assert "process A read 41" in text and "B wrote 42: one update lost" in text and "ex05_counter.py:19" in text
    rows = text.splitlines()[1:3]
    assert rows[0].lstrip().startswith("process A") and rows[1].lstrip().startswith("process B")
    assert rows[0].index("read 41") < rows[1].index("read 41") < rows[0].index("wrote 42") < rows[1].index("wrote 42")


def test_updates_one_after_another_lose_nothing():
    result = CallResult(status="returned", phase="done", races=[
        _trace(11, (0.001, "read", 41), (0.002, "wrote", 42)),
        _trace(12, (0.003, "read", 42), (0.004, "wrote", 43))])
    assert lost_update(result) is None
