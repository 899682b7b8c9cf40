"""The server's application interface: what a request handler sees and gives back.

The server knows nothing of WSGI.  For each request it calls a :data:`Handler` with an
:class:`~httpkit.server.exchange.Exchange` (the request head, a body reader and the
response writer) and the handler returns the response body as an iterable of bytes.
The server then sends that body with back-pressure and always calls its ``close()``.
The WSGI edge (:mod:`httpkit.wsgi`) is one such handler.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING

from httpkit.errors import HttpkitError

if TYPE_CHECKING:
    from httpkit.server.exchange import Exchange

__all__ = ["ClientDisconnectedError", "ConnectionInfo", "FileBody", "Handler"]

Handler = Callable[["Exchange"], Iterable[bytes]]
"""Called once per request (inline or on a worker thread); returns the response body."""


class ClientDisconnectedError(HttpkitError, OSError):
    """The client closed the connection while the application was reading or writing."""


@dataclass(slots=True)
class ConnectionInfo:
    """Who is talking to whom on one connection (the same object for every request)."""

    peer_host: str  # "" for Unix sockets
    peer_port: int
    server_host: str  # the listener's address (or the Unix socket path)
    server_port: int
    url_scheme: str = "http"
    multithread: bool = True
    trusted_proxy: bool = False  # the peer is a trusted proxy whose headers are believed
    client_subject: str = ""  # with --ca-certs: the client certificate's subject, "CN=..."
    # A handler's own values for this connection (the WSGI edge keeps the environ keys
    # that do not change from request to request).  Not copied by dataclasses.replace(),
    # so an info rewritten from a proxy's headers never reuses the proxy's values.
    handler_cache: object = field(default=None, init=False, repr=False, compare=False)


class FileBody:
    """A response body read from a file, which the server may send with ``os.sendfile``.

    Iterating gives blocks of ``block_size`` bytes (the fallback when ``sendfile`` cannot
    be used); ``close()`` closes the file.
    """

    def __init__(self, file: IO[bytes], block_size: int = 65536) -> None:
        if block_size < 1:
            raise ValueError("block_size must be positive")
        self.file = file
        self.block_size = block_size

    def __iter__(self) -> FileBody:
        return self

    def __next__(self) -> bytes:
        block = self.file.read(self.block_size)
        if not block:
            raise StopIteration
        return bytes(block)

    def close(self) -> None:
        close = getattr(self.file, "close", None)
        if close is not None:
            close()

    def sendfile_span(self) -> tuple[int, int] | None:
        """(offset, byte count) left in a regular on-disk file, or None if not sendfile-able."""
        try:
            fileno = self.file.fileno()
            offset = self.file.tell()
            status = os.fstat(fileno)
        except (AttributeError, OSError, ValueError):
            return None
        if not stat.S_ISREG(status.st_mode):
            return None
        return offset, max(0, status.st_size - offset)
