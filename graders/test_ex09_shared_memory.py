"""Grader for exercise 9: numpy in SharedMemory, disjoint slices, close and unlink."""
from __future__ import annotations

import numpy
import pytest

from mpgrade import Exercise, calls, check, require_clean_exit, short

EXERCISE = Exercise(
    title="numpy in SharedMemory, disjoint slices, close and unlink",
    points=10,
    you_write="`scale_slice`, `parallel_scale`",
    goals="`SharedMemory` + numpy views; attach by name; `close()` everywhere, `unlink()` once",
)


def _array(rng, size: int) -> numpy.ndarray:
    return numpy.array([rng.uniform(-1000, 1000) for _ in range(size)], dtype=numpy.float64)


@pytest.mark.points(4)
def test_parallel_scale_is_correct(student, rng):
    """parallel_scale returns array * factor as a numpy array"""
    array, factor = _array(rng, rng.randrange(1_000, 5_000)), round(rng.uniform(-4, 4), 3)
    got = student.call("parallel_scale", array, factor, 2, timeout=60).value
    check(isinstance(got, numpy.ndarray),
          f"parallel_scale returned a {type(got).__name__}; return a numpy.ndarray (copy it out of the block).")
    check(got.shape == array.shape and numpy.allclose(got, array * factor, rtol=1e-12, atol=0),
          f"parallel_scale(<{array.size} floats>, {factor}, 2) returned values that differ from array * factor "
          f"(first values {short(got[:4].tolist())}, expected {short((array[:4] * factor).tolist())}). "
          "Every element must be scaled exactly once: give each process its own slice.")


@pytest.mark.points(2)
def test_workers_attach_to_a_shared_memory_block(student, rng):
    """the work is done by worker processes on a SharedMemory block"""
    processes = rng.randrange(2, 4)
    result = student.call("parallel_scale", _array(rng, 1_000), 2.0, processes, timeout=60)
    check(calls(result, "SharedMemory.__init__") >= 1,
          "parallel_scale does not create a multiprocessing.shared_memory.SharedMemory block.")
    started = calls(result, "Process.start") + calls(result, "Pool.__init__")
    check(started >= 2 or calls(result, "Process.start") == processes,
          f"parallel_scale started {started} worker process(es) for n_processes={processes}.")


@pytest.mark.points(3)
def test_block_is_closed_and_unlinked(student, rng):
    """the block is closed and unlinked and no worker is left: nothing stays in /dev/shm"""
    result = student.call("parallel_scale", _array(rng, 1_000), 3.0, 2, timeout=60)
    require_clean_exit(result, "parallel_scale")
    check(calls(result, "SharedMemory.unlink") >= 1,
          "parallel_scale never calls unlink() on its SharedMemory block; call it once, after close(), "
          "in the process that created the block.")
