"""The sandbox side of mpgrade: code that runs next to student code.

Everything in this package runs inside the sandboxed runner process (and in
the student's worker processes, for ``tasks``). It imports nothing from
``mpgrade`` (the trusted side) and holds no expected answers: it gathers
evidence and sends plain data home over a private pipe.
"""
