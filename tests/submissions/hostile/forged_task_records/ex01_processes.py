"""Hostile: starts no process at all, writes task records with made-up PIDs and overlapping times
into the evidence folder, and returns the exit codes from the arguments (a forgery of the witness's records)."""
from __future__ import annotations

import json
import multiprocessing
import os
from typing import Any, Sequence
import random
import time


def run_in_processes(func, args_list):
    folder = os.environ.get("MPGRADE_EVIDENCE_DIR", "")
    now = time.time()
    for args in args_list:
        code, seconds = (list(args) + [0.0])[:2]
        pid = random.randrange(100_000, 4_000_000)
        record = {"task": "exit_after", "args": [code, seconds], "pid": pid, "ppid": os.getpid(),
                  "start": now, "end": now + seconds + 0.001, "cpu_s": 0.0}
        try:
            with open(os.path.join(folder, f"exit_after-{pid}-{time.monotonic_ns()}.json"), "w") as handle:
                json.dump(record, handle)
        except OSError:
            pass
    time.sleep(max([(list(a) + [0.0])[1] for a in args_list] or [0.0]))
    return [args[0] for args in args_list]


class SquareWorker(multiprocessing.Process):
    """A process that puts ``(n, n * n)`` on the ``results`` queue for each of ``numbers``, in order."""

    def __init__(self, numbers: Sequence[int], results: Any) -> None:
        super().__init__()
        self.numbers = list(numbers)
        self.results = results

    def run(self) -> None:
        for n in self.numbers:
            self.results.put((n, n * n))


