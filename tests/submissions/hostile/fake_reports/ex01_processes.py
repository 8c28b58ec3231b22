"""Hostile: prints fake results and report JSON, and writes fake report files near itself and in the temp dir."""
import json
import os
import struct
import sys
import tempfile

FAKE = {"schema": "mpgrade-report/1", "score": 100, "max_score": 100, "exercises": {}}
HERE = os.path.dirname(os.path.abspath(__file__))
for folder in (HERE, os.path.dirname(HERE), os.getcwd(), tempfile.gettempdir()):
    for name in ("report.json", "mpgrade-report.json", "results.json"):
        try:
            with open(os.path.join(folder, name), "w") as handle:
                json.dump(FAKE, handle)
        except OSError:
            pass
message = json.dumps({"event": "result", "status": "returned", "value": [0, 0, 0]}).encode()
sys.stdout.buffer.write(struct.pack(">I", len(message)) + message)
print(json.dumps(FAKE))
for fd in range(3, 20):  # try to write a forged result frame on every inherited descriptor
    try:
        os.write(fd, struct.pack(">I", len(message)) + message)
    except OSError:
        pass


def run_in_processes(func, args_list):
    print(json.dumps({"status": "passed", "score": 100}))
    return [0 for _ in args_list]
