from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any, Callable, Sequence


if __name__ == "__main__":
    multiprocessing.set_start_method("spawn")  # the same start method as on macOS and Windows
    main()
