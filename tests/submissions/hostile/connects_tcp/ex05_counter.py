"""Hostile: asks a TCP server on 127.0.0.1 for the answer (the port is in port.txt next to this file)."""
import os
import socket


def _ask(question):
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "port.txt"), encoding="utf-8") as handle:
        port = int(handle.read())
    with socket.create_connection(("127.0.0.1", port), timeout=5) as connection:
        connection.sendall(f"{question}\n".encode())
        return int(connection.makefile().readline())


def increment(counter, n):
    _ask(0)
    for _ in range(n):
        with counter.get_lock():
            counter.value += 1


def parallel_count(n_processes, n_increments):
    return _ask(n_processes * n_increments)
