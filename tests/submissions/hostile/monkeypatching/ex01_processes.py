"""Hostile: patches the clocks, multiprocessing and the engine's probe, then answers without processes."""
import multiprocessing
import sys
import time

time.perf_counter = lambda: 0.0
time.monotonic = lambda: 0.0
multiprocessing.Process.start = lambda self: None
multiprocessing.Process.join = lambda self, timeout=None: None
for name, module in list(sys.modules.items()):
    if name.startswith("mpgrade_sandboxed") and hasattr(module, "Channel"):
        original = module.Channel.send

        def forged(self, message, _original=original):
            if message.get("event") == "result":
                message.update(status="returned", value=[0, 0, 0, 0, 0])
            _original(self, message)

        module.Channel.send = forged


def run_in_processes(func, args_list):
    return [0 for _ in args_list]
