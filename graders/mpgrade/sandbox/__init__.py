"""The sandbox: runs one call into student code in a confined child and returns plain data.

Everything here runs in (or is started by) the grading process, except
``template.py`` and ``supervisor.py``, which run as their own processes.
It also measures the machine (``machine``, ``cpulock``) because the call's
limits and the speedup verdicts rest on the same facts. It imports only
``mpgrade.settings`` from the rest of the kit: no verdict, course or batch
module, so what runs next to student code knows nothing of scoring.
"""
