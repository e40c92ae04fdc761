"""``python -m playground``: the command line (the app by default)."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
