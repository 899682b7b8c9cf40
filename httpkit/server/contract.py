"""The contract between the server and its request handlers.

The server knows nothing of WSGI (or ASGI).  For each request it calls a
:data:`Handler` with a :class:`HandlerExchange` -- the request head, who sent it, a
body reader and the response writer -- and the handler returns the response body as an
iterable of bytes.  The server sends that body with back-pressure and always calls its
``close()``.  The WSGI edge (:mod:`httpkit.wsgi`) is one such handler; this module is
all of the server it may see.

A handler may instead be a coroutine function (an :data:`AsyncHandler`, such as the
ASGI edge, :mod:`httpkit.asgi`): the server then runs it as a task on the event loop
with an :class:`AsyncHandlerExchange`, whose body reads are awaited pulls and whose
sends wait while the client reads slowly.  Either kind of handler may have coroutine
methods ``startup()`` and ``shutdown()`` (:class:`Lifecycle`), which the server awaits
before it accepts connections and after its last one closed.
"""

from __future__ import annotations

import inspect
import os
import stat
from collections.abc import Awaitable, Callable, Iterable
from typing import IO, Any, Protocol

from httpkit.errors import HttpkitError
from httpkit.h1 import Request
from httpkit.server.info import ConnectionInfo

__all__ = [
    "AsyncHandler",
    "AsyncHandlerExchange",
    "ClientDisconnectedError",
    "ExchangeBasics",
    "FileBody",
    "Handler",
    "HandlerExchange",
    "Lifecycle",
    "Tunnel",
    "is_async_handler",
    "lifecycle_hook",
]


class ExchangeBasics(Protocol):
    """What every handler sees of its exchange, whichever way it runs."""

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

    def start_response(self, status: int, reason: str, headers: list[tuple[str, str]]) -> None:
        """Check and record the status and fields (ResponseError if invalid); they go
        out with the first body bytes."""


class HandlerExchange(ExchangeBasics, Protocol):
    """What a handler may do with one request and its response.

    The handler runs inline on the event-loop thread (``threads=0``) or on a worker
    thread; every method is safe to call from the thread it runs on, and only from it.
    """

    def read(self, size: int = -1) -> bytes:
        """Up to ``size`` body bytes as they arrive (all that is left if negative);
        ``b""`` at the end.  Raises :class:`~httpkit.errors.ProtocolError` for a body the
        server refused (413...) and :class:`ClientDisconnectedError` if the client left."""

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


class AsyncHandlerExchange(ExchangeBasics, Protocol):
    """What a coroutine handler may do with one request and its response.

    Every method is called from the handler's task, on the event-loop thread.
    """

    @property
    def body_done(self) -> bool:
        """Every body byte was received (or there is no body): no more to read."""

    @property
    def finished(self) -> bool:
        """The response was completed with :meth:`finish`."""

    async def receive(self) -> bytes:
        """The body bytes that arrived since the last call, waiting for some; ``b""``
        at the end.  Raises :class:`~httpkit.errors.ProtocolError` for a body the server
        refused (413...) and :class:`ClientDisconnectedError` if the client left."""

    async def send(self, piece: bytes) -> None:
        """Send one piece of the body, the head first; returns once the client has read
        enough of what was sent before (back-pressure).  Raises
        :class:`ClientDisconnectedError` once the client has gone."""

    def finish(self, piece: bytes = b"") -> None:
        """Send the last piece (the whole body, with its length, if nothing was sent
        yet) and end the response; the connection goes on with its next request."""

    async def disconnected(self) -> None:
        """Returns once the client has gone, or the response was finished."""

    def upgrade(self, headers: list[tuple[str, str]]) -> Tunnel:
        """Answer ``101 Switching Protocols`` with ``headers`` (checked) and take over the
        connection's bytes (RFC 9110 7.8): no more HTTP is read on it, and it closes when
        the handler returns.  Only for a request without a body."""

    def cancel(self) -> None:
        """Cancel the handler's task (an edge's own time limit): what the task raises
        then is answered as any other error."""


class Tunnel(Protocol):
    """An upgraded connection's bytes, both ways (after ``101 Switching Protocols``)."""

    @property
    def closed(self) -> bool:
        """The connection is gone (or closing): nothing more can be sent."""

    @property
    def going_away(self) -> bool:
        """The server is stopping: the handler should close its protocol."""

    async def receive(self) -> bytes:
        """The bytes received since the last call, waiting for some; ``b""`` once the
        client closed its side, the connection is gone, or :attr:`going_away` is set."""

    @property
    def last_received(self) -> float:
        """``time.monotonic()`` when bytes last arrived (read or not yet)."""

    async def send(self, data: bytes) -> None:
        """Write ``data``, waiting while the client reads slowly;
        :class:`ClientDisconnectedError` once the connection is gone."""

    def write(self, data: bytes) -> None:
        """Write ``data`` without waiting (from a timer, say: a ping)."""

    def close(self) -> None:
        """Close the connection once what was sent has gone out."""

    def abort(self) -> None:
        """Cut the connection now."""


AsyncHandler = Callable[[AsyncHandlerExchange], Awaitable[None]]
"""A coroutine function run as a task on the event loop, once per request."""


class Lifecycle(Protocol):
    """The optional coroutine methods of a handler, awaited once per server (worker)."""

    async def startup(self) -> None:
        """Before the first connection is accepted; raising stops the server's start."""

    async def shutdown(self) -> None:
        """After the last connection closed."""


def is_async_handler(handler: object) -> bool:
    """Whether ``handler`` is a coroutine function (or an object whose ``__call__`` is)."""
    return inspect.iscoroutinefunction(handler) or inspect.iscoroutinefunction(
        getattr(handler, "__call__", None)  # noqa: B004 (the method itself is inspected)
    )


def lifecycle_hook(handler: object, name: str) -> Callable[[], Awaitable[Any]] | None:
    """The handler's ``startup`` or ``shutdown`` coroutine method, if it has one."""
    hook = getattr(handler, name, None)
    return hook if inspect.iscoroutinefunction(hook) else None


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
