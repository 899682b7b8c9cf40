import sys
from pathlib import Path

# The server-process helper lives beside the server tests; share it rather than copy it.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "server"))
