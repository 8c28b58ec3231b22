"""Reporters: one pure function per output format, from a report v1 (trusted side).

Each module turns the same ``mpgrade-report/1`` document into what one
platform reads; none runs grading or touches files.
"""
