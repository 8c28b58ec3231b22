def square_via_pipe(numbers: Sequence[int]) -> list[int]:
    """Return the squares of ``numbers``, in order, computed by one child process running ``squarer``."""
    parent_conn, child_conn = multiprocessing.Pipe(duplex=True)
    worker = multiprocessing.Process(target=squarer, kwargs={"conn": child_conn}, daemon=True)
    worker.start()
    child_conn.close()
    out = []
    for value in numbers:
        parent_conn.send(value)
        out.append(parent_conn.recv())
    parent_conn.send(None)
    worker.join()
    parent_conn.close()
    return out
