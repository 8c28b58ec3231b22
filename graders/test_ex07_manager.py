"""Grader for exercise 7: a Manager dict updated by several processes."""
from __future__ import annotations

import re
from collections import Counter

import pytest

from mpgrade import (
    CheckFailed, Exercise, GradingError, Opaque, RaceRun, calls, check, child_crash, fail, find_races, judge_races,
    race_text, require_clean_exit, short, started_processes, started_with,
)
from mpgrade import describe_raised, todo_hint, where_text


EXERCISE = Exercise(
    title="a Manager dict updated by several processes",
    points=10,
    you_write="`count_words`, `word_counts`",
    goals="`Manager().dict()` proxies; a read-modify-write of a proxy needs a `manager.Lock()`",
)


VOCABULARY = ["ant", "bee", "cat", "dog", "eel", "fox"]
LOCK_FIX = ("`counts[word] = counts.get(word, 0) + 1` is two separate calls to the manager; another process can "
            "update the word in between. Hold a manager.Lock() (passed to the workers) around both.")
EDGES = (
    ("5 documents for 3 processes (a number that does not divide evenly, and an empty document)",
     ["ant", "", "bee ant", "fox fox fox", "cat"], 3),
    ("more processes than documents", ["cat dog", "dog eel"], 4),
    ("a single document", ["ant bee ant"], 2),
    ("no documents at all", [], 2),
    ("160 documents (long enough that counts read before the processes finish always fall short)",
     [" ".join(f"w{(i * 7 + j) % 12}" for j in range(10)) for i in range(160)], 2),
)
"""The fixed edge cases every grading runs besides the random documents: (what it is, documents, n_processes)."""
CONTENTION = ["ant bee cat " * 10] * 8
"""Every process updates the same three words, 80 times each: the most contention a Manager dict gets."""


def _documents(rng, n_documents: int, words: int) -> list[str]:
    return [" ".join(rng.choice(VOCABULARY) for _ in range(words)) for _ in range(n_documents)]


def _expected(documents: list[str]) -> dict[str, int]:
    return dict(Counter(word for document in documents for word in document.split()))


def _call(documents: list[str], n_processes: int) -> str:
    shown = short(documents) if len(documents) <= 5 else f"<{len(documents)} documents>"
    return f"word_counts({shown}, {n_processes})"


def _each(student, function: str, cases: list[tuple], labels: list[str], timeout: float):
    """``student.each`` on a check's cases, in one sandbox; a hang names the case it stopped in (the last case
    mark the driver printed)."""
    __tracebackhide__ = True
    try:
        return student.each(function, cases, timeout=timeout)
    except GradingError:
        raise
    except CheckFailed as failure:
        marks = re.findall(r"\[mpgrade\] case (\d+)", failure.feedback)
        if not marks or int(marks[-1]) >= len(cases):
            raise
        index = int(marks[-1])
        lines = [line for line in failure.feedback.splitlines() if "[mpgrade] case" not in line]
        if lines and lines[-1].startswith("Your code printed"):
            lines.pop()
        call = f"{function}({', '.join(short(a) for a in cases[index])})"
        where = f"the edge case {call} ({labels[index]})" if labels[index] else f"the case {call}"
        raise CheckFailed(f"On {where}:\n" + "\n".join(lines)) from None


def _raised_case(student, result, action: str, error: dict, documents: list[str], n_processes: int) -> str:
    """An edge case that raised: the exception at the student's line, and what this case shows about it (else
    the engine's own words for the exception)."""
    message = str(error.get("message"))
    if error.get("type") == "ZeroDivisionError" or "must not be zero" in message:
        cause = (f"With {len(documents)} document(s) and n_processes={n_processes}, a share size computed as "
                 "len(documents) // n_processes is 0. Split with documents[i::n_processes], which works for any "
                 "number of documents (a process whose share is empty counts nothing).")
    elif "Number of processes must be at least 1" in message:
        cause = (f"With {len(documents)} document(s), a Pool of min(n_processes, len(documents)) processes has 0 "
                 "processes, which Pool refuses: use max(1, ...), or return {} before starting one.")
    else:
        return describe_raised(f"`{action}`", error, student.path, result.api_calls)
    where = error.get("where")
    return (f"`{action}` raised {error.get('type')}: {message}" + (f"\n  at {where_text(where)}" if where else "")
            + f"\n{cause}" + todo_hint(where))


def _counts_mismatch(student, documents: list[str], n_processes: int, got, result, expected: dict[str, int]) -> str:
    """Why word_counts' counts are wrong, the most specific evidence first (a second, race-tracked call
    only when the counts fall short and nothing else explains it)."""
    call = _call(documents, n_processes)
    text = f"{call} returned {short(got, 200)}; expected {expected}."
    crash = child_crash(result, student.path)
    if crash:
        return f"{text}\n{crash}"
    if isinstance(got, Opaque):
        kind = got.type.rsplit(".", 1)[-1]
        kind = "DictProxy" if kind == "TrackedDict" else kind  # the kit's recording stand-in for manager.dict()
        return (f"{call} returned a {kind}, not a dict. A Manager's dict "
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
        again = student.call("word_counts", documents, n_processes, timeout=60, races=True)
        races = find_races(again)
        if races:
            return f"{text} {lost} of {total} updates were lost.\n{race_text(races[0], student.path)[0]}\n{LOCK_FIX}"
    first = next((k for k in sorted(set(expected) | set(got), key=str) if got.get(k) != expected.get(k)), None)
    return (f"{text} The first difference: {first!r} counted {got.get(first, 0)} time(s), expected "
            f"{expected.get(first, 0)}. Count every word (str.split()) of every document exactly once.")


def _only_lost_updates(got, expected: dict[str, int]) -> bool:
    """Every word is there, none counted more often than it occurs: what updates lost to a race leave."""
    return isinstance(got, dict) and set(got) == set(expected) \
        and all(isinstance(v, int) and 1 <= v <= expected[k] for k, v in got.items())


@pytest.mark.points(3)
def test_word_counts_are_exact(student, rng):
    """word_counts counts every word of every document: random documents, and fixed edge cases (a count of
    documents n_processes does not divide, more processes than documents, one document, none). Counts that fall
    short because the dict is updated without the lock are test_no_update_is_lost_under_contention's to judge
    (whether a race loses an update in one run is a matter of timing): one mistake, one deduction"""
    documents = _documents(rng, rng.randrange(4, 8), rng.randrange(5, 15))
    result = student.call("word_counts", documents, 2, timeout=60, races=True)
    raced = bool(find_races(result))
    expected = _expected(documents)
    if result.value != expected and not (raced and _only_lost_updates(result.value, expected)):
        fail(_counts_mismatch(student, documents, 2, result.value, result, expected))
    edges, outcomes = _each(student, "word_counts", [(docs, n) for _, docs, n in EDGES], [e[0] for e in EDGES], 90)
    for (label, docs, n), outcome in zip(EDGES, outcomes):
        if "raised" in outcome:
            fail(f"On a fixed edge case ({label}): "
                 + _raised_case(student, edges, _call(docs, n), outcome["raised"], docs, n))
        got, wanted = outcome.get("value"), _expected(docs)
        if got != wanted and not (raced and _only_lost_updates(got, wanted)):
            fail(f"On a fixed edge case ({label}): " + _counts_mismatch(student, docs, n, got, edges, wanted))


@pytest.mark.points(3)
def test_workers_share_a_manager_dict(student, rng):
    """word_counts starts a Manager's server process and at least two worker processes (as seen from outside
    the student's processes), and leaves no process running, also on the fixed edge cases"""
    documents = _documents(rng, 6, 10)
    result = student.call("word_counts", documents, 3, timeout=60)
    workers = started_processes(result)
    if not started_processes(result, "manager"):
        plain = started_with(result, ("dict",))
        fail("word_counts(<6 documents>, 3) started no Manager: no Manager's server process ran during the call."
             + (f" Its worker processes were handed a plain dict (an argument of {plain['target']}), which each "
                "child gets as a copy." if plain else "")
             + " Create one (with multiprocessing.Manager() as manager:) and share manager.dict() with the "
               "worker processes.")
    if not workers:
        how = "in threads of the calling process" if calls(result, "Thread.start") else "in the calling process"
        fail(f"word_counts(<6 documents>, 3) started no worker process besides the Manager's server: the counting "
             f"ran {how}. Split the documents among n_processes worker processes (Process objects, or a "
             "Pool(n_processes)) that share the Manager's dict.")
    check(len(workers) >= 2,
          f"word_counts(<6 documents>, 3) started only {len(workers)} worker process besides the Manager's server. "
          "Split the documents among n_processes worker processes (Process objects, or a Pool(n_processes)) that "
          "share the Manager's dict.")
    require_clean_exit(result, "word_counts")
    edges, _ = _each(student, "word_counts", [(docs, n) for _, docs, n in EDGES], [e[0] for e in EDGES], 90)
    require_clean_exit(edges, "word_counts (on the fixed edge cases: " + ", ".join(label.split(" (")[0]
                                                                            for label, _, _ in EDGES) + ")")


@pytest.mark.points(3)
def test_no_update_is_lost_under_contention(student, rng):
    """no update is lost when many processes update the same words at once: a fixed worst case (every process
    updating the same words) and random documents"""
    runs = []
    for documents in (CONTENTION, _documents(rng, 8, rng.randrange(20, 40))):
        result = student.call("word_counts", documents, 3, timeout=60, races=True)
        got = result.value
        expected = _expected(documents)
        counted = sum(v for v in got.values() if isinstance(v, int)) if isinstance(got, dict) else 0
        runs.append(RaceRun(sum(expected.values()), counted, result))
    judge_races(runs, student.path, LOCK_FIX)
