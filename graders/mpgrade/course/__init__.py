"""The course: which exercises exist and their points, the student stubs, and what gets handed out.

``curriculum`` reads the graders' ``EXERCISE`` declarations; ``stubs``
composes the student files from the solutions; ``release`` and ``exports``
write a student repository and each platform's bundle.
"""
