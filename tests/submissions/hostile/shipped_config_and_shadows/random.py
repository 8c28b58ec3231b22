raise RuntimeError("a student's random.py shadowed the standard library's")
