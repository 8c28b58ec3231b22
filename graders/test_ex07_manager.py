"""Grader for exercise 7: a Manager dict updated by several processes."""
from __future__ import annotations

from collections import Counter

import pytest

from mpgrade import Exercise, RaceRun, calls, check, judge_races, require_clean_exit

EXERCISE = Exercise(
    title="a Manager dict updated by several processes",
    points=10,
    you_write="`count_words`, `word_counts`",
    goals="`Manager().dict()` proxies; a read-modify-write of a proxy needs a `manager.Lock()`",
)


VOCABULARY = ["ant", "bee", "cat", "dog", "eel", "fox"]


def _documents(rng, n_documents: int, words: int) -> list[str]:
    return [" ".join(rng.choice(VOCABULARY) for _ in range(words)) for _ in range(n_documents)]


def _expected(documents: list[str]) -> dict[str, int]:
    return dict(Counter(word for document in documents for word in document.split()))


@pytest.mark.points(3)
def test_word_counts_are_exact(student, rng):
    """word_counts counts every word of every document"""
    documents = _documents(rng, rng.randrange(4, 8), rng.randrange(5, 15))
    got = student.call("word_counts", documents, 2, timeout=60).value
    expected = _expected(documents)
    check(got == expected, f"word_counts(<{len(documents)} documents>, 2) returned {got}; expected {expected}.")


@pytest.mark.points(3)
def test_workers_share_a_manager_dict(student, rng):
    """word_counts runs worker processes that share a Manager().dict()"""
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
    judge_races(runs, student.path, "`counts[word] = counts.get(word, 0) + 1` is two separate calls to the manager; "
                              "another process can update the word in between. Hold a manager.Lock() (passed "
                              "to the workers) around both.")
