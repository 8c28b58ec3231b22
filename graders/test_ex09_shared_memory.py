"""Grader for exercise 9: numpy in SharedMemory, disjoint slices, close and unlink."""
from __future__ import annotations

import numpy
import pytest

from mpgrade import (
    Exercise, calls, calls_in_source, check, child_crash, fail, index_list, require_clean_exit, started_with,
)

EXERCISE = Exercise(
    title="numpy in SharedMemory, disjoint slices, close and unlink",
    points=10,
    you_write="`scale_slice`, `parallel_scale`",
    goals="`SharedMemory` + numpy views; attach by name; `close()` everywhere, `unlink()` once",
)


def _array(rng, size: int) -> numpy.ndarray:
    return numpy.array([rng.uniform(-1000, 1000) for _ in range(size)], dtype=numpy.float64)


def _scale_mismatch(array: numpy.ndarray, factor: float, processes: int, got: numpy.ndarray, result, path) -> str:
    """Why parallel_scale's values are wrong, the most specific evidence first: a worker's crash, elements
    scaled twice (overlapping slices), none scaled (a copy handed to the workers, or read before join), some
    never scaled (slices that leave a gap)."""
    call = f"parallel_scale(<{array.size} floats>, {factor}, {processes})"
    if got.shape != array.shape:
        return f"{call} returned an array of shape {got.shape}; expected {array.shape}, the shape of the input."
    crash = child_crash(result, path)
    expected = array * factor
    wrong = [int(i) for i in numpy.flatnonzero(~numpy.isclose(got, expected, rtol=1e-12, atol=0))]
    first = wrong[0]
    text = (f"{call} returned a wrong value at {len(wrong)} of {array.size} indices. The first is index {first}: "
            f"{float(got[first])!r}, expected {float(expected[first])!r} ({float(array[first])!r} * {factor}).")
    if crash:
        return f"{text}\nA worker process failed before scaling its slice:\n{crash}"
    twice = [i for i in wrong if abs(factor) not in (0.0, 1.0)
             and numpy.isclose(got[i], array[i] * factor * factor, rtol=1e-12, atol=0)]
    if twice:
        return (f"{text}\nIndex {index_list(twice)} {'was' if len(twice) == 1 else 'were'} scaled twice "
                f"(multiplied by {factor} two times): two workers' slices both include "
                f"{'it' if len(twice) == 1 else 'them'}, so the slices overlap. With bounds = "
                "[size * i // n for i in range(n + 1)], worker i scales [bounds[i]:bounds[i + 1]]; a slice's stop "
                "is the next one's start and is not part of it.")
    unchanged = [i for i in wrong if got[i] == array[i]]
    started, joined = calls(result, "Process.start"), calls(result, "Process.join")
    if unchanged and len(unchanged) == len(wrong) and started and joined < started:
        return (f"{text}\nparallel_scale started {started} worker(s) and called join() {joined} time(s): it "
                "copied the result out of the block before the workers had finished. join() every worker first.")
    if len(unchanged) == array.size:
        copy = started_with(result, ("ndarray", "list"))
        if copy:
            kind = "numpy array" if "ndarray" in copy["arg_types"] else "list"
            return (f"{text}\nNo element changed: each worker was handed a {kind} (an argument of "
                    f"{copy['target']}), and a process's arguments are pickled, so the worker scaled its own copy, "
                    "never the shared block. Pass the block's name (block.name), the shape and the dtype, and let "
                    "the worker attach with SharedMemory(name=name) and scale a view of the block in place.")
        return (f"{text}\nNo element changed, though {started} worker process(es) ran and exited cleanly: what "
                "they computed never reached the result. The worker must scale a view of the block in place "
                "(view[start:stop] *= factor; `x = view[start:stop] * factor` makes a new array), and "
                "parallel_scale must copy the result out of the block only after join() has returned.")
    if unchanged and len(unchanged) == len(wrong):
        return (f"{text}\nIndex {index_list(unchanged)} {'was' if len(unchanged) == 1 else 'were'} never scaled: "
                "no worker scaled them. Together the workers' slices must cover the whole array, each one "
                "[bounds[i]:bounds[i + 1]], the last ending at len(array).")
    return f"{text}\nEvery element must be scaled exactly once, in place, by the worker whose slice holds it."


@pytest.mark.points(4)
def test_parallel_scale_is_correct(student, rng):
    """parallel_scale returns array * factor as a numpy array"""
    array, factor = _array(rng, rng.randrange(1_000, 5_000)), round(rng.uniform(-4, 4), 3)
    result = student.call("parallel_scale", array, factor, 2, timeout=60)
    got = result.value
    check(isinstance(got, numpy.ndarray),
          f"parallel_scale returned a {type(got).__name__}; return a numpy.ndarray (copy it out of the block).")
    if not (got.shape == array.shape and numpy.allclose(got, array * factor, rtol=1e-12, atol=0)):
        fail(_scale_mismatch(array, factor, 2, got, result, student.path))


@pytest.mark.points(2)
def test_workers_attach_to_a_shared_memory_block(student, rng):
    """parallel_scale creates a SharedMemory block and starts worker processes"""
    processes = rng.randrange(2, 4)
    result = student.call("parallel_scale", _array(rng, 1_000), 2.0, processes, timeout=60)
    check(calls(result, "SharedMemory.__init__") >= 1,
          "parallel_scale does not create a multiprocessing.shared_memory.SharedMemory block.")
    started = calls(result, "Process.start") + calls(result, "Pool.__init__")
    check(started >= 2 or calls(result, "Process.start") == processes,
          f"parallel_scale started {started} worker process(es) for n_processes={processes}.")


@pytest.mark.points(3)
def test_block_is_closed_and_unlinked(student, rng):
    """parallel_scale closes and unlinks the block it created, and leaves no worker and nothing in /dev/shm"""
    result = student.call("parallel_scale", _array(rng, 1_000), 3.0, 2, timeout=60)
    unlinked = calls(result, "SharedMemory.unlink")
    elsewhere = [c for c in calls_in_source(student.path, "unlink") if c.function not in ("parallel_scale", None)]
    if not unlinked and elsewhere:
        place = elsewhere[0]
        crash = child_crash(result, student.path)
        fail(f"parallel_scale itself never calls unlink(); {student.path.name}:{place.line}: {place.source} calls it "
             f"in {place.function}(), which every worker process runs. The first worker to get there removes the "
             "block while the others may still need it: attaching to it, or unlinking it again, then fails."
             + (f"\n{crash}" if crash else "")
             + "\nUnlink once, in parallel_scale (the process that created the block), after joining the workers; "
               "the workers only close() it.")
    require_clean_exit(result, "parallel_scale")
    check(unlinked >= 1,
          "parallel_scale never calls unlink() on its SharedMemory block; call it once, after close(), "
          "in the process that created the block.")
    check(calls(result, "SharedMemory.close") >= 1,
          "parallel_scale unlinks its block but never calls close() on it. Every process that opened the block "
          "closes it: in parallel_scale, copy the result out, `del` the numpy view, then block.close() and "
          "block.unlink().")
