"""Hostile: real processes, one after another, then the task records they left are rewritten
so that their times overlap (real PIDs, invented intervals)."""
from __future__ import annotations

import json
import multiprocessing
import os
from typing import Any, Sequence


def run_in_processes(func, args_list):
    codes = []
    for args in args_list:  # one at a time: start, join, next
        process = multiprocessing.Process(target=func, args=tuple(args))
        process.start()
        process.join()
        codes.append(process.exitcode)
    folder = os.environ.get("MPGRADE_EVIDENCE_DIR", "")
    names = [n for n in os.listdir(folder) if n.endswith(".json")] if folder else []
    records = {}
    for name in names:
        with open(os.path.join(folder, name)) as handle:
            records[name] = json.load(handle)
    if records:
        first = min(r["start"] for r in records.values())
        longest = max(r["end"] - r["start"] for r in records.values())
        for name, record in records.items():
            record["start"], record["end"] = first, first + longest
            with open(os.path.join(folder, name), "w") as handle:
                json.dump(record, handle)
    return codes


class SquareWorker(multiprocessing.Process):
    """A process that puts ``(n, n * n)`` on the ``results`` queue for each of ``numbers``, in order."""

    def __init__(self, numbers: Sequence[int], results: Any) -> None:
        super().__init__()
        self.numbers = list(numbers)
        self.results = results

    def run(self) -> None:
        for n in self.numbers:
            self.results.put((n, n * n))


