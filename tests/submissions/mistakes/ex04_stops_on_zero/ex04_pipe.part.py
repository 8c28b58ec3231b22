def squarer(conn: Any) -> None:
    """Child process: receive numbers on ``conn`` and send back their squares; stop on None."""
    while True:
        n = conn.recv()
        if not n:
            break
        conn.send(n * n)
    conn.close()
