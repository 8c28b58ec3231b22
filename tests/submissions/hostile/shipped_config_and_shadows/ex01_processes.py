"""Hostile: the untouched stub, shipped with a conftest.py, pytest.ini, sitecustomize.py, random.py and json.py."""


def run_in_processes(func, args_list):
    raise NotImplementedError
