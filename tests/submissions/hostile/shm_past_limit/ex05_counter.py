"""Hostile: a right answer, after writing 256 MB into /dev/shm (SharedMemory blocks; 4x the battery's 64 MB
limit; bounded). The blocks are closed and left for the supervisor to sweep."""
import time
from multiprocessing import shared_memory


def _fill():
    for _ in range(8):
        block = shared_memory.SharedMemory(create=True, size=32 * 2**20)
        block.buf[:] = b"x" * block.size
        block.close()
        time.sleep(0.05)


def increment(counter, n):
    for _ in range(n):
        with counter.get_lock():
            counter.value += 1


def parallel_count(n_processes, n_increments):
    _fill()
    return n_processes * n_increments
