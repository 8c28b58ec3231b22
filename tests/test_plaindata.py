"""Plain data across the boundary: tagged JSON round trips, nothing executable comes back."""
from __future__ import annotations

import math

import numpy
import pytest

from mpgrade_sandboxed.plaindata import Opaque, RemoteException, TaskRef, dumps, loads


@pytest.mark.parametrize("value", [
    None, True, 0, -7, 2**80, 1.5, "text", [1, [2, [3]]], (1, (2, 3)), {"a": 1}, {1: "a", (2, 3): "b"},
    {1, 2, 3}, frozenset({"x"}), b"\x00\xff", [float("inf"), float("-inf")], {"__tuple__": 1},
])
def test_round_trip(value):
    assert loads(dumps(value)) == value


def test_nan_and_numpy():
    decoded = loads(dumps([float("nan"), numpy.arange(6, dtype="int32").reshape(2, 3), numpy.float64(2.5)]))
    assert math.isnan(decoded[0])
    assert decoded[1].dtype == numpy.int32 and decoded[1].tolist() == [[0, 1, 2], [3, 4, 5]]
    assert decoded[2] == 2.5


def test_exceptions_and_unknown_objects_come_back_as_records():
    class Sneaky:
        def __reduce__(self):  # would run on unpickling; JSON never calls it
            raise AssertionError("must not be called")

        def __repr__(self):
            return "<sneaky " + "x" * 1000 + ">"

    decoded = loads(dumps([KeyError("k"), Sneaky(), TaskRef("square")]))
    assert decoded[0] == RemoteException("KeyError", "'k'")
    assert isinstance(decoded[1], Opaque) and decoded[1].type.endswith("Sneaky")
    assert len(decoded[1].repr) <= 300
    assert decoded[2] == TaskRef("square")


def test_subclasses_of_plain_types_are_not_trusted_as_plain():
    class Liar(int):
        def __eq__(self, other):
            return True

    decoded = loads(dumps(Liar(3)))
    assert isinstance(decoded, Opaque) and decoded.repr == "3"


def test_a_deep_or_huge_value_is_cut_not_crashing():
    deep: list = []
    for _ in range(200):
        deep = [deep]
    text = dumps(deep)
    assert b"too large or too deep" in text


def test_malformed_input_raises_value_error():
    with pytest.raises(ValueError):
        loads(b"{not json")
