"""The corpus of correct variants: a correct solution written another way than ours gets full marks.

Each folder of ``tests/submissions/correct/`` is one correct way a student
might write an exercise, stored as what that student wrote differently from
the solution (``<exercise>.part.py``; ``python -m mpgrade.course.parts show
FOLDER`` prints the whole file); ``about.json`` says how it differs and where a
student would learn it: contexts, ``kwargs=``, ``Process`` subclasses, a
Pool where the reference starts Processes, executors, ``iter(queue.get,
SENTINEL)``, connections as context managers, ``set_start_method`` under
the guard, ... It is the oracle for "never docks a correct student", as the
mistakes catalogue is for "names the cause".

The default run grades every variant once, under the platform's default
start method, every check but the speedup measurement (which has its own
battery: tests/test_speedup.py, benchmarks/speedup.py), three variants at
once in worker processes. The full matrix,
every variant and every catalogue entry under fork, spawn and forkserver and
three seeds, speedup included, is marked ``matrix`` (``pytest -m matrix``;
the same table: ``benchmarks/fairness.py``).
"""
from __future__ import annotations

import json
import multiprocessing
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from conftest import SUBMISSIONS, whole
from mpgrade.course import curriculum
from mpgrade.course.parts import exercise_of
from mpgrade.grading.direct import grade_exercise, lost_checks

CORPUS = SUBMISSIONS / "correct"
VARIANTS = sorted(p.name for p in CORPUS.iterdir() if p.is_dir())
CATALOGUE = sorted(p.name for p in (SUBMISSIONS / "mistakes").iterdir() if (p / "expect.json").is_file())
MEASURED_APART = ("test_primes_in_ranges_speedup",)
"""Checks the default run leaves to their own battery (a speedup measurement costs seconds of both CPUs)."""
SEEDS = (0, 1, 2)
METHODS = ("fork", "spawn", "forkserver")


def _exercise(folder: Path) -> str:
    return next(whole(folder).glob("ex*.py")).stem


def test_the_corpus_has_eight_variants_of_every_exercise_each_saying_what_it_is():
    per_exercise = Counter(_exercise(CORPUS / v) for v in VARIANTS)
    assert set(per_exercise) == set(curriculum.names()), per_exercise
    assert min(per_exercise.values()) >= 8, per_exercise
    for variant in VARIANTS:
        folder = CORPUS / variant
        modules = [p for p in folder.iterdir() if p.suffix == ".py"]  # only what the student wrote: one part
        assert len(modules) == 1 and variant.startswith(exercise_of(modules[0])), variant
        about = json.loads((folder / "about.json").read_text(encoding="utf-8"))
        assert about["variant"] and about["idiom"], variant


GRADED_AT_ONCE = 3
"""Variants graded at once by the default run, each in a worker process of its own (its own sandbox template):
most of a check's time is spent waiting for processes to start and end, so 3 on 2 cores take about half the
time of one after another (the checks are built to be right under load)."""


@pytest.fixture(scope="module")
def corpus_grades(request: pytest.FixtureRequest):
    """The selected variants graded in the background from the first test on: variant -> future of its lost
    checks (in the order the tests run, so each test waits only for its own)."""
    selected = [item.callspec.params["variant"] for item in request.session.items
                if getattr(item, "originalname", "") == "test_a_correct_variant_gets_full_marks"]
    pool = ProcessPoolExecutor(GRADED_AT_ONCE, mp_context=multiprocessing.get_context("spawn"))
    try:
        yield {variant: pool.submit(lost_checks, _exercise(CORPUS / variant), whole(CORPUS / variant), MEASURED_APART)
               for variant in selected}
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


@pytest.mark.parametrize("variant", VARIANTS)
def test_a_correct_variant_gets_full_marks(variant, corpus_grades):
    lost = corpus_grades[variant].result(timeout=900)
    assert not lost, f"{variant} lost points:\n" + "\n".join(f"--- {c}\n{text}" for c, text in lost.items())


@pytest.mark.matrix
@pytest.mark.parametrize("entry", [f"correct/{v}" for v in VARIANTS] + [f"mistakes/{m}" for m in CATALOGUE])
def test_same_file_same_grade_under_every_start_method_and_seed(entry, leftovers):
    folder = whole(SUBMISSIONS / entry)
    exercise = _exercise(folder)
    scores = {(method, seed): grade_exercise(exercise, folder, start_method=method, seed=seed)
              for method in METHODS for seed in SEEDS}
    values = {key: outcome.score for key, outcome in scores.items()}
    for method in METHODS:  # a mistake may really work under fork (a lambda target): same seed-free grade per method
        per_seed = {values[(method, seed)] for seed in SEEDS}
        assert len(per_seed) == 1, (method, values, {k: o.lost() for k, o in scores.items()})
    if entry.startswith("correct/"):
        outcome = next(iter(scores.values()))
        assert outcome.score == outcome.max_score, outcome.lost()
    assert leftovers() == []
