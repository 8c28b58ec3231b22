"""Hostile: squares the numbers in the calling process, starts no child, and raises the kit's
counter of Process.start calls (found among the runner's objects) to 1 (faked API-call counts)."""
import gc
import multiprocessing


def squarer(conn):
    while True:
        n = conn.recv()
        if n is None:
            break
        conn.send(n * n)
    conn.close()


def square_via_pipe(numbers):
    parent_end, child_end = multiprocessing.Pipe()
    child_end.close()
    parent_end.close()
    for thing in gc.get_objects():
        if type(thing).__name__ == "Spies" and hasattr(thing, "counts"):
            thing.counts["Process.start"] = {"calls": 1, "from_student": 1}
    return [n * n for n in numbers]


if __name__ == "__main__":
    print(square_via_pipe([1, 2, 3]))
