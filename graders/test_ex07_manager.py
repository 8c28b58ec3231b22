"""Grader for exercise 7: a Manager dict updated by several processes."""
from __future__ import annotations

from collections import Counter

import pytest

from mpgrade import (
    Exercise, Opaque, RaceRun, calls, check, child_crash, fail, find_races, judge_races, race_text, require_clean_exit,
    started_with,
)


EXERCISE = Exercise(
    title="a Manager dict updated by several processes",
    points=10,
    you_write="`count_words`, `word_counts`",
    goals="`Manager().dict()` proxies; a read-modify-write of a proxy needs a `manager.Lock()`",
)


VOCABULARY = ["ant", "bee", "cat", "dog", "eel", "fox"]
LOCK_FIX = ("`counts[word] = counts.get(word, 0) + 1` is two separate calls to the manager; another process can "
            "update the word in between. Hold a manager.Lock() (passed to the workers) around both.")


def _documents(rng, n_documents: int, words: int) -> list[str]:
    return [" ".join(rng.choice(VOCABULARY) for _ in range(words)) for _ in range(n_documents)]


def _expected(documents: list[str]) -> dict[str, int]:
    return dict(Counter(word for document in documents for word in document.split()))


def _counts_mismatch(student, documents: list[str], result, expected: dict[str, int]) -> str:
    """Why word_counts' counts are wrong, the most specific evidence first (a second, race-tracked call
    only when the counts fall short and nothing else explains it)."""
    got = result.value
    text = f"word_counts(<{len(documents)} documents>, 2) returned {got}; expected {expected}."
    crash = child_crash(result, student.path)
    if crash:
        return f"{text}\n{crash}"
    if isinstance(got, Opaque):
        return (f"word_counts(<{len(documents)} documents>, 2) returned a {got.type.rsplit('.', 1)[-1]}, not a dict. A Manager's dict "
                "is a proxy to the Manager's server process; return a plain copy, dict(counts), made inside the "
                "Manager's with-block.")
    if not isinstance(got, dict):
        return f"{text} Return a dict from each word to its count."
    plain = started_with(result, ("dict",))
    if not got and expected and plain:
        return (f"{text} Each worker process was handed a plain dict (an argument of {plain['target']}), which a "
                "child process gets as a copy: the workers counted into their own copies and the dict you "
                "returned never changed. Share manager.dict() from a multiprocessing.Manager().")
    if expected and set(got) == set(expected) and all(isinstance(v, int) for v in got.values()):
        ratios = {got[k] / expected[k] for k in expected}
        ratio = next(iter(ratios))
        if len(ratios) == 1 and ratio >= 2 and ratio == int(ratio):
            return (f"{text} Every word was counted exactly {int(ratio)} times: every process counted all the "
                    "documents. Give each process only its share (e.g. documents[i::n_processes]).")
    if expected and set(got) <= set(expected) and all(isinstance(v, int) and v <= expected[k] for k, v in got.items()):
        lost, total = sum(expected.values()) - sum(got.values()), sum(expected.values())
        started, joined = calls(result, "Process.start"), calls(result, "Process.join")
        if started and joined < started:
            return (f"{text} {lost} of {total} words are missing: word_counts started {started} process(es) and "
                    f"called join() {joined} time(s), so it read the counts before they had finished. join() "
                    "every process before reading the dict.")
        again = student.call("word_counts", documents, 2, timeout=60, races=True)
        races = find_races(again)
        if races:
            return f"{text} {lost} of {total} updates were lost.\n{race_text(races[0], student.path)[0]}\n{LOCK_FIX}"
    first = next((k for k in sorted(set(expected) | set(got)) if got.get(k) != expected.get(k)), None)
    return (f"{text} The first difference: {first!r} counted {got.get(first, 0)} time(s), expected "
            f"{expected.get(first, 0)}. Count every word (str.split()) of every document exactly once.")


@pytest.mark.points(3)
def test_word_counts_are_exact(student, rng):
    """word_counts counts every word of every document"""
    documents = _documents(rng, rng.randrange(4, 8), rng.randrange(5, 15))
    result = student.call("word_counts", documents, 2, timeout=60)
    expected = _expected(documents)
    if result.value != expected:
        fail(_counts_mismatch(student, documents, result, expected))


@pytest.mark.points(3)
def test_workers_share_a_manager_dict(student, rng):
    """word_counts starts a Manager and at least two worker processes, and leaves none running"""
    documents = _documents(rng, 6, 10)
    result = student.call("word_counts", documents, 3, timeout=60)
    check(calls(result, "BaseManager.start") >= 1,
          "word_counts does not start a multiprocessing.Manager(). Create one (with multiprocessing.Manager() "
          "as manager:) and share manager.dict() with the worker processes.")
    started = calls(result, "Process.start") + calls(result, "Pool.__init__")
    check(started >= 2, f"word_counts started {started} worker process(es) for n_processes=3.")
    require_clean_exit(result, "word_counts")


@pytest.mark.points(3)
def test_no_update_is_lost_under_contention(student, rng):
    """no update is lost when many processes update the same words at once"""
    runs = []
    for _ in range(2):
        documents = _documents(rng, 8, rng.randrange(20, 40))
        result = student.call("word_counts", documents, 3, timeout=60, races=True)
        got = result.value
        expected = _expected(documents)
        counted = sum(v for v in got.values() if isinstance(v, int)) if isinstance(got, dict) else 0
        runs.append(RaceRun(sum(expected.values()), counted, result))
    judge_races(runs, student.path, LOCK_FIX)
