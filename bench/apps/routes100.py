"""The full-stack app: 100 routes with a method-based handler, on each framework.

``routes100:httpkit``, ``routes100:falcon``, ``routes100:pyramid`` and ``routes100:flask``
are WSGI apps built (on first access, so that a server imports only its own framework)
by the same builders as ``bench/dispatch.py``: routes ``/r0/{id}`` to ``/r100/{id}``,
each a handler class with a ``get`` method.  The benchmark requests the last one.
"""

from __future__ import annotations

from typing import Any

from dispatch import BUILDERS

ROUTES = 100
PATH = f"/r{ROUTES}/7"  # the last route: the worst case for a linear router
_built: dict[str, Any] = {}


def __getattr__(name: str) -> Any:  # PEP 562: build an app on first access
    if name not in BUILDERS:
        raise AttributeError(name)
    if name not in _built:
        _built[name] = BUILDERS[name](ROUTES)
    return _built[name]
