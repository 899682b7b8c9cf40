"""The ASGI edge of the server: ASGI 3 applications (``http`` and ``lifespan`` scopes).

Beside :mod:`httpkit.wsgi`, on the same server: it sees only the server's handler
contract (:mod:`httpkit.server.contract`).
"""

from httpkit.asgi.handler import ASGIHandler, is_asgi_app

__all__ = ["ASGIHandler", "is_asgi_app"]
