"""Verdicts: turn what a call returned and what the witness saw into pass, fail or partial, with words.

Evidence helpers, races, the ``__main__`` guard, the speedup decision,
hangs and the feedback text. They read plain data (``CallResult``) and the
student's source; they never start a call themselves except through the
``Student`` handed to them, and know nothing of pytest, courses or classes.
"""
