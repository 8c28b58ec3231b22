"""``python -m mpgrade``: the same as the ``mpgrade`` command."""
import sys

from .cli import main

sys.exit(main())
