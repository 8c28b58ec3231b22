"""One grading process: pytest with the kit's plugin, one submission, one report v1.

``plugin`` (the pytest11 entry point) wires settings, the ``student``
fixture and the report; ``student`` is the grader's handle on the sandbox;
``direct`` grades without pytest; ``command`` builds the pytest command the
CLI and the batch runner start; ``report`` and ``provenance`` write and read
report v1.
"""
