"""``python -m mpgrade``: the same as the ``mpgrade`` command."""
import sys

from mpgrade.cli import main

sys.exit(main())
