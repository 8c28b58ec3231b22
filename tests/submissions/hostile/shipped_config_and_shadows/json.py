raise RuntimeError("a student's json.py shadowed the standard library's")
