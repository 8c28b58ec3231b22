"""Race detection: every racy variant flagged, every correct one passed, under every start method."""
from __future__ import annotations

from pathlib import Path

import pytest

from conftest import SUBMISSIONS, whole
from mpgrade.grading.direct import run_check
from mpgrade.verdicts.races import find_races
from mpgrade.sandbox.launcher import CallResult

VARIANTS = SUBMISSIONS / "races"
CHECK = {
    "ex05_counter": "test_parallel_count_loses_no_update",
    "ex06_array": "test_parallel_bump_loses_no_update",
    "ex07_manager": "test_no_update_is_lost_under_contention",
}
RACY_LINES = {
    "racy_counter_no_lock": "ex05_counter.py:19: counter.value += 1",
    "racy_counter_lock_read_only": "ex05_counter.py:21: counter.value = current + 1",
    "racy_counter_lock_write_only": "ex05_counter.py:21: counter.value = current + 1",
    "racy_array_no_lock": "ex06_array.py:20: shared[index] += 1.0",
    "racy_manager_no_lock": "ex07_manager.py:20: counts[word] = counts.get(word, 0) + 1",
}


def _plan(folder: Path) -> tuple[str, str]:
    exercise = next(folder.glob("ex*.py")).stem
    if "disjoint" in folder.name:
        return exercise, "test_parallel_square_on_disjoint_slices"
    return exercise, CHECK[exercise]


@pytest.mark.parametrize("start_method", ["fork", "spawn", "forkserver"])
@pytest.mark.parametrize("variant", sorted(p.name for p in VARIANTS.iterdir()))
def test_variant_gets_the_right_verdict(variant, start_method, leftovers):
    exercise, check = _plan(whole(VARIANTS / variant))
    outcome = run_check(exercise, check, whole(VARIANTS / variant), start_method, seed=2024)
    if variant.startswith("racy"):
        assert outcome.status == "failed", variant
        assert RACY_LINES[variant] in outcome.feedback, outcome.feedback
        assert "(lost updates possible)" in outcome.feedback
        assert "runs." in outcome.feedback  # the counts are shown as evidence
        # ...and one lost update as the recorder saw it, in order, in words and two rows
        assert "What happened, as recorded at" in outcome.feedback and "process B" in outcome.feedback, \
            outcome.feedback
    else:
        assert outcome.status == "passed", outcome.feedback
    assert leftovers() == []


def _result(*processes) -> CallResult:
    return CallResult(status="returned", phase="done", races=list(processes))


def _process(pid, elements, runner=False, site=None):
    facts = {"kind": "array", "elements": elements}
    if site:
        facts["site_U"] = site
    return {"pid": pid, "runner": runner, "objects": {"obj": facts}}


def test_disjoint_unlocked_writes_are_not_a_race():
    assert find_races(_result(_process(1, {"0": "rU", "1": "rU"}), _process(2, {"2": "rU", "3": "U"}))) == []


def test_one_unlocked_writer_among_two_is_a_race():
    site = {"file": "ex.py", "line": 3, "source": "a[0] += 1"}
    races = find_races(_result(_process(1, {"0": "rL"}), _process(2, {"0": "rU"}, site=site)))
    assert len(races) == 1 and races[0].writers == 2 and races[0].site == site and not races[0].split


def test_split_read_write_is_a_race_even_with_locked_writes():
    races = find_races(_result(_process(1, {"0": "rLS"}), _process(2, {"0": "rLS"})))
    assert races and races[0].split


def test_writes_while_the_caller_is_alone_and_reads_after_join_are_not_races():
    assert find_races(_result(_process(1, {"0": "Qr"}, runner=True), _process(2, {"0": "rL"}),
                              _process(3, {"0": "rL"}))) == []
