"""The causes a failed check can name, each with a stable code: one list, for a class's misconceptions.

A student reads the feedback; an instructor grading a class wants to know
what the class misunderstood: "14 students read exitcode before join()", not
"check X failed 14 times". Every failed check in report v1 carries one code
from :data:`CAUSES` (``checks[].cause``), and ``mpgrade grade`` counts them.

The code comes from the diagnosis. A check may name it (``fail(..., cause=...)``);
otherwise :func:`classify` finds it from the words the diagnosis wrote: each
cause lists phrases that only its diagnosis uses, and the list runs from the
most specific cause to the most general, so the first match is the cause the
feedback leads with. ``other`` is left for feedback that names none of them
(a test holds every catalogue entry to a named cause).

Codes are part of report v1: never rename one; add new ones, and retire one
by keeping it here with no phrases.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Cause:
    code: str
    title: str
    """The misconception in an instructor's words, completing "N students ..."."""
    says: tuple[str, ...]
    """Phrases of the feedback that name this cause (any one is enough)."""


CAUSES: tuple[Cause, ...] = (
    # Hangs: who waited for what.
    Cause("missing-sentinel", "left consumers waiting for a stop value they never get (too few sentinels, or "
          "one they do not recognise)", ("one sentinel per consumer", "a sentinel of its own")),
    Cause("join-before-drain", "joined processes before reading what they put on a queue",
          ("drain the result queue", "held back until what it put on a queue has been read")),
    Cause("read-before-count", "read a result before checking whether one is due",
          ("reads a result before it checks how many",)),
    Cause("pipe-full-both-ways", "sent everything before reading anything, so the pipe filled both ways",
          ("Send one number, then receive its square",)),
    Cause("stop-message-missing", "never sent the child its stop message", ("send the child its stop message",)),
    Cause("lock-taken-twice", "took a lock the process already held", ("cannot be taken twice",)),
    Cause("task-waits-on-unfed-queue", "made Pool tasks wait on a queue nobody feeds", ("nobody will send",)),
    # Processes: starting, joining, reading how they ended.
    Cause("joins-one-process", "joined the same process again instead of each one",
          ("joins the same process every time",)),
    Cause("exitcode-before-join", "read exitcode before join()", ("read exitcode before join()",)),
    Cause("join-in-start-loop", "joined each process right after starting it, so they ran one at a time",
          ("join() right after", "ran one after another")),
    Cause("result-awaited-in-submit-loop", "waited for each result before submitting the next task",
          ("calls .get() right on apply_async", "calls pool.apply")),
    Cause("not-joined", "did not join the processes before using their results",
          ("called join() 0 time(s)", "never calls join()", "before its processes had finished",
           "Call join() on every process", "join() every Process you start", "some process was never joined")),
    Cause("target-called-in-parent", "called the function in the parent instead of passing it as target",
          ("calls the function right there",)),
    Cause("args-wrapped", "wrapped the arguments in another tuple", ("wrapped in another one",)),
    Cause("no-super-init", "overrode __init__ without calling Process.__init__", ("super().__init__()",)),
    Cause("start-overridden", "overrode start() instead of run()", ("rename it to run()",)),
    Cause("terminate-instead-of-stop", "terminated a child instead of telling it to stop",
          ("stopped with terminate()",)),
    # Threads, or the caller, doing the work.
    Cause("threads-not-processes", "used threads where processes were asked for",
          ("ThreadPoolExecutor", "uses a ThreadPool", "whose workers are threads")),
    Cause("result-recomputed", "computed a result again in the caller instead of taking the worker's",
          ("do not call func again",)),
    Cause("work-in-caller", "did the work in the calling process",
          ("the work ran in the calling process", "in the calling process itself", "Process.start() never ran")),
    # Pickling, the guard and what a spawned child can import.
    Cause("lambda-to-pool", "handed a Pool a lambda", ("<locals>.<lambda>", "no lambda)")),
    Cause("local-function-to-pool", "handed a Pool a function defined inside another function",
          ("Can't pickle local object", "no function defined inside another function")),
    Cause("worker-defined-under-guard", "defined a worker function only under the __main__ guard",
          ("defined only inside `if __name__",)),
    Cause("guard-typo", "compared __name__ with something other than \"__main__\"", ("compares __name__ with",)),
    Cause("main-not-called", "named main under the guard without calling it", ("without calling it",)),
    Cause("unguarded-main", "started work at the top level, without the __main__ guard",
          ("when the module is imported", "if __name__ == \"__main__\":")),
    # Shared state.
    Cause("unlocked-update", "updated shared state without holding its lock from read to write",
          ("(lost updates possible)", "without holding the counter's lock", "without holding its lock",
           "manager.Lock()")),
    Cause("lock-too-fine", "took the lock per element, so a whole update was not atomic", ("half-updated array",)),
    Cause("copy-instead-of-shared", "handed workers a copy instead of the shared object",
          ("handed a list", "handed a plain dict", "handed a numpy array", "has no attribute 'get_lock'")),
    Cause("manager-used-after-shutdown", "used a Manager's objects after its with-block", ("after the `with` block",)),
    Cause("returns-proxy", "returned a Manager proxy instead of a plain object", ("returned a DictProxy",)),
    # Shared memory.
    Cause("shm-not-unlinked", "never unlinked a SharedMemory block",
          ("shared memory block(s) in /dev/shm", "unlink() it once")),
    Cause("shm-unlinked-by-workers", "unlinked the block in the workers instead of once in its creator",
          ("itself never calls unlink()",)),
    Cause("shm-not-closed", "never closed a SharedMemory block", ("never calls close()",)),
    Cause("shm-sized-in-elements", "sized a SharedMemory block in elements, not bytes", ("size=array.nbytes",)),
    Cause("not-in-place", "computed a copy instead of writing into the shared block", ("No element changed",)),
    # Futures.
    Cause("futures-keyed-by-item", "looked futures up by item instead of by future", ("as_completed() takes futures",)),
    Cause("results-in-input-order", "read results in submission order instead of as they completed",
          ("which gives the results in input order", "as_completed(futures)")),
    Cause("item-paired-with-wrong-result", "paired items with other items' results",
          ("an item is paired with another item's result",)),
    Cause("map-stops-at-first-error", "read executor.map's results in one try, losing all after a failure",
          ("executor.map's iterator re-raises the first exception",)),
    Cause("result-reraises", "called future.result() on a future that failed", ("future.result() raises again",)),
    Cause("exception-as-text", "stored an exception's text instead of the exception", ("a str is not the exception",)),
    # A child that stops on what it should have handled.
    Cause("crash-on-stop-message", "processed the stop message as work", ("It failed on the sentinel",
                                                                          "It failed on None, the stop message")),
    Cause("falsy-stop-check", "took a falsy value (0) for the stop message", ("0 is taken for the stop message",)),
    Cause("end-not-closed", "kept the child's end of a Pipe open in the parent",
          ("the parent still held the child's end",)),
    # Splitting the work.
    Cause("zero-size-chunks", "made chunks of zero items when there were more processes than items",
          ("must not be zero",)),
    Cause("chunks-drop-remainder", "split the work so that the remainder was left out",
          ("the remainder", "never squared", "never scaled", "has no element at index")),
    Cause("overlapping-chunks", "split the work into chunks that overlap", ("overlap",)),
    Cause("data-to-every-worker", "gave every worker all the data instead of its share", ("counted exactly 2 times",)),
    Cause("work-split-instead-of-repeated", "split work among processes that each had to do all of it",
          ("Each of the n_processes processes adds n_increments",)),
    Cause("wrong-process-count", "started the wrong number of processes",
          ("one for every number", "Start exactly one", "start one Process per", "one per slice",
           "process(es) in all", "one producer and")),
    Cause("results-miscounted", "read fewer results than there were items (counting consumers, or trusting "
          "queue.empty())", ("items (missing", "some stayed on the result queue")),
    Cause("pool-not-closed", "never closed or joined a Pool", ("never shuts its Pool down",)),
    Cause("missing-return", "forgot to return the result", ("returned None",)),
    # General: said last, so that any cause above wins.
    Cause("worker-raised", "let a worker process raise an exception",
          ("A worker process raised", "A worker process failed", "before its process failed")),
    Cause("deadlock", "deadlocked (every process waited for another)", ("a deadlock", "deadlocked")),
    Cause("time-limit", "ran past the time limit", ("did not finish within",)),
    Cause("not-written", "left the TODO unwritten", ("is not written yet",)),
    Cause("missing-file", "handed in no file of that name", ("is missing from",)),
    Cause("wrong-result", "returned a wrong result", ("expected", "returned", "Index")),
    Cause("other", "failed for a reason the kit does not name yet", ()),
)

BY_CODE = {cause.code: cause for cause in CAUSES}


def of(failure: Any) -> str:
    """A failed check's code: the one its check named (``CheckFailed.cause``), else the one its words name."""
    return failure.cause or classify(failure.feedback)


def classify(feedback: str) -> str:
    """The code of the first cause whose phrase is in ``feedback``; ``other`` when none is."""
    for cause in CAUSES:
        if any(phrase in feedback for phrase in cause.says):
            return cause.code
    return "other"


def title(code: str) -> str:
    """What the code means, for an instructor."""
    cause = BY_CODE.get(code)
    return cause.title if cause else code
