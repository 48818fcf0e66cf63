"""``python -m nst_core``: the command line (``nst_core/cli.py``)."""
import sys

from .cli import main

sys.exit(main())
