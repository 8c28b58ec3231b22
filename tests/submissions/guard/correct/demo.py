"""A module done right: definitions at the top, work in main() under the guard."""
import multiprocessing
from typing import TYPE_CHECKING

LIMIT = 4
NAMES = frozenset({"a", "b"})

if TYPE_CHECKING:
    from collections.abc import Iterable


def square(n):
    return n * n


def main():
    with multiprocessing.Pool(2) as pool:
        print(pool.map(square, range(LIMIT)))
    process = multiprocessing.Process(target=square, args=(3,))
    process.start()
    process.join()


if __name__ == "__main__":
    main()
