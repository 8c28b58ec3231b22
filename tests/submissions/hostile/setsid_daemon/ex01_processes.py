"""Hostile: leaves a double-forked setsid() daemon that, 2 s later, writes fake reports (then ends by itself)."""
import json
import multiprocessing
import os
import tempfile
import time

FAKE = {"schema": "mpgrade-report/1", "score": 100, "max_score": 100}


def _daemon(paths):
    if os.fork():
        return
    os.setsid()
    if os.fork():
        os._exit(0)
    time.sleep(2)
    for path in paths:
        try:
            with open(path, "w") as handle:
                json.dump(FAKE, handle)
        except OSError:
            pass
    time.sleep(30)
    os._exit(0)


def run_in_processes(func, args_list):
    here = os.path.dirname(os.path.abspath(__file__))
    _daemon([os.path.join(here, "daemon-was-here.json"), os.path.join(here, "..", "report.json"),
             os.path.join(tempfile.gettempdir(), "mpgrade-report.json")])
    processes = [multiprocessing.Process(target=func, args=tuple(args)) for args in args_list]
    for process in processes:
        process.start()
    for process in processes:
        process.join()
    return [process.exitcode for process in processes]
