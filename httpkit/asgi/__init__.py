"""The ASGI edge of the server: ASGI 3 applications (``http``, ``websocket`` and
``lifespan`` scopes).

Beside :mod:`httpkit.wsgi`, on the same server: it sees only the server's handler
contract (:mod:`httpkit.server.contract`).  :class:`ASGIHandler` is imported on first
use, so that a server of a WSGI application imports nothing of this edge.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from httpkit.asgi.detect import is_asgi_app

if TYPE_CHECKING:
    from httpkit.asgi.handler import ASGIHandler

__all__ = ["ASGIHandler", "is_asgi_app"]


def __getattr__(name: str) -> Any:
    if name == "ASGIHandler":
        from httpkit.asgi.handler import ASGIHandler  # noqa: PLC0415 (see above)

        return ASGIHandler
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
