"""``python -m httpkit``: the same command line as ``httpkit``."""

import sys

from httpkit.cli import main

if __name__ == "__main__":
    sys.exit(main())
