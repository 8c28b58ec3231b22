"""A class at once: intake of many submissions, grading them in worker processes or shards, the class report.

Sits above ``grading`` (it runs one grading process per submission) and
never the other way round.
"""
