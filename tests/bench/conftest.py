"""The bench scripts import their harness as ``harness`` (from bench/, their directory)."""

from __future__ import annotations

import os
import sys

BENCH = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(__file__))), "bench")
if BENCH not in sys.path:
    sys.path.insert(0, os.path.abspath(BENCH))
APPS = os.path.join(BENCH, "apps")
if APPS not in sys.path:
    sys.path.insert(0, os.path.abspath(APPS))
