"""Hostile: asks for 20 GB at once."""


def run_in_processes(func, args_list):
    hoard = bytearray(20 * 1024 ** 3)
    return [len(hoard)]
