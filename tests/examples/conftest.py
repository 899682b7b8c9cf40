import sys
from pathlib import Path

# The examples are a package at the repository root, importable from a checkout.
ROOT = str(Path(__file__).resolve().parent.parent.parent)
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
