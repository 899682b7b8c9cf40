"""The contract between the server and its request handlers.

The server knows nothing of WSGI (or ASGI).  For each request it calls a
:data:`Handler` with a :class:`HandlerExchange` -- the request head, who sent it, a
body reader and the response writer -- and the handler returns the response body as an
iterable of bytes.  The server sends that body with back-pressure and always calls its
``close()``.  The WSGI edge (:mod:`httpkit.wsgi`) is one such handler; this module is
all of the server it may see.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterable
from typing import IO, Protocol

from httpkit.errors import HttpkitError
from httpkit.h1 import Request
from httpkit.server.info import ConnectionInfo

__all__ = ["ClientDisconnectedError", "FileBody", "Handler", "HandlerExchange"]


class HandlerExchange(Protocol):
    """What a handler may do with one request and its response.

    The handler runs inline on the event-loop thread (``threads=0``) or on a worker
    thread; every method is safe to call from the thread it runs on, and only from it.
    """

    @property
    def request(self) -> Request:
        """The parsed request head."""

    @property
    def connection(self) -> ConnectionInfo:
        """Who sent the request (rewritten from a trusted proxy's headers)."""

    @property
    def response_started(self) -> bool:
        """True once :meth:`start_response` was called."""

    @property
    def head_sent(self) -> bool:
        """True once the response head has left: too late to replace the response."""

    def read(self, size: int = -1) -> bytes:
        """Up to ``size`` body bytes as they arrive (all that is left if negative);
        ``b""`` at the end.  Raises :class:`~httpkit.errors.ProtocolError` for a body the
        server refused (413...) and :class:`ClientDisconnectedError` if the client left."""

    def start_response(self, status: int, reason: str, headers: list[tuple[str, str]]) -> None:
        """Check and record the status and fields (ResponseError if invalid); they go
        out with the first body bytes."""

    def send(self, piece: bytes) -> None:
        """Send one piece of the body now, the head first; waits (on a worker thread)
        while the client reads slowly."""

    def open_stream(self) -> bool:
        """This response is a long-lived stream (server-sent events): take one of the
        server's stream slots until its body is closed.  False at the bound (``max_streams``):
        answer 503 instead."""

    def pause_body(self, when_ready: Callable[[Callable[[], None]], None], timeout: float) -> None:
        """The body's next piece will be ``b""`` because it has nothing to send.  The server
        then waits -- never blocking the event loop -- until ``when_ready(wake)``'s ``wake``
        is called (from any thread), ``timeout`` seconds pass, or the client leaves or
        the server stops (then the body is closed), before asking for the next piece."""


Handler = Callable[[HandlerExchange], Iterable[bytes]]
"""Called once per request (inline or on a worker thread); returns the response body."""


class ClientDisconnectedError(HttpkitError, OSError):
    """The client closed the connection while the application was reading or writing."""


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
