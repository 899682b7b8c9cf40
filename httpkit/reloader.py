"""``--reload``: notice when a Python file under a directory changes (polling).

Polling the modification times is plain and portable; the supervisor asks twice a
second.  A change, a new file or a deleted file all count.  Directories that hold no
project code (hidden ones, ``__pycache__``, virtual environments) are skipped, and the
walk is bounded so a huge tree cannot stall the supervisor.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["SourceWatcher"]

SKIPPED_DIRS = frozenset(("__pycache__", "node_modules", "site-packages", "venv", "build"))
MAX_FILES = 20_000


class SourceWatcher:
    """Call it: True once after any ``*.py`` file under ``root`` changed."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self._seen = self._snapshot()

    def _snapshot(self) -> dict[str, float]:
        seen: dict[str, float] = {}
        for directory, subdirs, files in os.walk(self.root):
            subdirs[:] = [d for d in subdirs if not d.startswith(".") and d not in SKIPPED_DIRS]
            for name in files:
                if name.endswith(".py"):
                    path = os.path.join(directory, name)
                    try:
                        seen[path] = os.stat(path).st_mtime_ns
                    except OSError:
                        continue  # deleted between the listing and the stat
                    if len(seen) >= MAX_FILES:
                        return seen
        return seen

    def __call__(self) -> bool:
        current = self._snapshot()
        changed = current != self._seen
        self._seen = current
        return changed
