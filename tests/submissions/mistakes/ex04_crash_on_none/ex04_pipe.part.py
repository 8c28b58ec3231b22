def squarer(conn: Any) -> None:
    """Child process: receive numbers on ``conn`` and send back their squares; stop on None."""
    while True:
        n = conn.recv()
        conn.send(n * n)
        if n is None:
            break
    conn.close()
