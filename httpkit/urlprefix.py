"""The URL prefix (the ``url_prefix`` setting): the paths a server under one serves.

Both edges answer a request outside the prefix with ``404`` before the application
sees it: the WSGI edge, the ASGI edge's ``http`` and ``websocket`` scopes.  This module
is on the ground floor, so that both may import it (the ASGI edge never imports the
WSGI edge); it imports nothing.
"""

from __future__ import annotations

__all__ = ["OUTSIDE_PREFIX_FIELDS", "outside_prefix_body", "under_prefix"]

OUTSIDE_PREFIX_FIELDS = [("Content-Type", "text/plain; charset=utf-8")]


def under_prefix(path: str, prefix: str) -> bool:
    """Whether the decoded ``path`` is ``prefix`` itself or below it: ``/app`` and
    ``/app/items`` are under ``/app``, ``/appx`` is not.  Every path is under ``""``."""
    return not prefix or path == prefix or path.startswith(prefix + "/")


def outside_prefix_body(prefix: str) -> bytes:
    """The body of the ``404`` that answers a request outside ``prefix``."""
    return f"Not Found: this server serves paths under {prefix}/\n".encode()
