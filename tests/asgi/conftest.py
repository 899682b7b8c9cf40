import sys
from pathlib import Path

# The functional fixtures live beside the server tests; share them rather than copy them.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "server"))

from server_helpers import raw_client

__all__ = ["raw_client"]
