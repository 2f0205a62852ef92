"""``python -m zerobus_py``: the zerobus command line (the Go binary's code, run in-process)."""

import sys

from ._cli import main

if __name__ == "__main__":
    sys.exit(main())
