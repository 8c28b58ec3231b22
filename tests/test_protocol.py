"""The sandbox protocol: each message survives its trip as plain JSON; frames; anything else is not a message."""
from __future__ import annotations

import json
import os

import pytest

from mpgrade_sandboxed.protocol import (RUNNER_STATUSES, Imported, Result, RunRequest, Started, Status,
                                        SupervisorConfig, Verdict, decode, read_frames, write_frame)


def test_status_is_a_string_in_comparisons_json_and_text():
    assert Status.RETURNED == "returned" and "timeout" == Status.TIMEOUT
    assert json.dumps({"status": Status.RAISED}) == '{"status": "raised"}'
    assert f"{Status.LIMIT}" == str(Status.LIMIT) == "limit"
    assert Status("sandbox_error") is Status.SANDBOX_ERROR


@pytest.mark.parametrize("message", [
    Started(123),
    Imported(0.25, {"Pool": {"calls": 1, "from_student": 1}}),
    Result(Status.RETURNED, value=[1, {"__tuple__": [2, 3]}], seconds=0.5, evidence=[{"pid": 7}]),
    Result(Status.MISSING, detail={"name": "f", "kind": "function", "found": "int"}),
])
def test_runner_messages_cross_a_pipe_unchanged(message):
    read_fd, write_fd = os.pipe()
    try:
        write_frame(write_fd, message)
        write_frame(write_fd, message)
        os.close(write_fd)
        data = os.read(read_fd, 1 << 20)
    finally:
        os.close(read_fd)
    frames = read_frames(data)
    assert [end for _, end in frames] == [len(data) // 2, len(data)]
    assert decode(frames[0][0]) == message


def test_files_and_the_verdict_round_trip():
    request = RunRequest("/s", "mod", "function", "f", args=[1], start_method="fork", evidence_dir="/e", result_fd=5)
    assert RunRequest.from_plain(json.loads(json.dumps(request.to_plain()))) == request
    config = SupervisorConfig(["python"], "/c", {"A": "1"}, "/o", "/e", 3.0, 5, "/r", cpus=[0])
    assert SupervisorConfig.from_plain(json.loads(json.dumps(config.to_plain()))) == config
    verdict = Verdict(exitcode=0, killed=[{"pid": 1, "cmdline": "x"}], cgroup="v2", shm_swept=[])
    assert Verdict.from_output(b"noise\n" + verdict.to_line().encode()) == verdict
    with pytest.raises(ValueError):
        Verdict.from_output(b"")


@pytest.mark.parametrize("forged", [
    {"event": "result", "status": "timeout"},     # not the runner's to send
    {"event": "result", "status": "ok"},          # no such status
    {"event": "started", "pid": "1"},
    {"event": "finished"},
    {"status": "returned"},
])
def test_anything_the_runner_does_not_send_decodes_to_none(forged):
    assert decode(forged) is None


def test_runner_statuses_are_the_runners():
    assert Status.TAMPERED not in RUNNER_STATUSES and Status.RETURNED in RUNNER_STATUSES


def test_short_and_broken_frames_end_the_reading():
    good = b"\x00\x00\x00\x02{}"
    assert read_frames(good + b"\x00\x00\x00\x09{}") == [({}, 6)]
    assert read_frames(good + b"\x00\x00\x00\x02{x" + good) == [({}, 6)]
    assert read_frames(b"\x00\x00\x00\x02[]" + good) == [({}, 12)]
