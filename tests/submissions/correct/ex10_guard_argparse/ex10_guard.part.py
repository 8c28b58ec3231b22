from __future__ import annotations

import argparse
import multiprocessing
from typing import Sequence


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Count primes below each limit with a Pool.")
    parser.add_argument("--processes", type=int, default=None, help="worker processes (default: one per CPU)")
    parser.add_argument("limits", type=int, nargs="*", default=LIMITS)
    args = parser.parse_args(argv)
    counts = parallel_counts(args.limits, args.processes)
    for limit, count in zip(args.limits, counts):
        print(f"primes below {limit}: {count}")
