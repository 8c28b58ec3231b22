# after: imports
class _NoMoreWork:
    """A singleton marker: it pickles as a reference to the module's SENTINEL, so identity survives queues."""

    def __reduce__(self) -> str:
        return "SENTINEL"

    def __repr__(self) -> str:
        return "SENTINEL"


SENTINEL = _NoMoreWork()
"""Put on the task queue once per consumer: "no more work"."""


def produce(items: Sequence[Any], tasks: Any, n_consumers: int) -> None:
    """Producer process: put every item on ``tasks``, then one SENTINEL per consumer."""
    for item in items:
        tasks.put(item)
    for _ in range(n_consumers):
        tasks.put_nowait(SENTINEL)
