"""Request bodies: ``wsgi.input`` read with file semantics and counted against max_body.

A WSGI server may return less than asked from ``wsgi.input.read(n)`` before the body
ends -- httpkit's own server does, handing bytes over as they arrive.  Code written for
files does not expect that: a single ``read()`` gets part of the body, and WebOb's
Content-Length reader takes a short read for a client that went away.  So the router
puts :class:`BodyInput` in front of a body of announced length, and, with ``max_body``,
of a body of unannounced length (chunked), which it counts as it is read: 413 past the
limit.  ``read(n)`` returns ``n`` bytes unless the body ends first; ``read1(n)`` returns
what has arrived.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import webob.exc

__all__ = ["BodyInput", "ReleasingBody", "guard_body"]

READ_BLOCK = 64 * 1024  # the most asked of the server's stream in one call
_UNBOUNDED = sys.maxsize
# Streams whose read(n) already returns n bytes unless the body ends.
_FULL_READ_TYPES = (io.BytesIO, io.BufferedReader)


def guard_body(environ: dict[str, Any], max_body: int | None) -> None:
    """Check the announced length against ``max_body``; wrap the body's stream.

    Raises 400 for a Content-Length that is not a number, 413 for one over the limit.
    A request without a body is left alone (nothing to wrap on the common GET).
    """
    length = environ.get("CONTENT_LENGTH")
    stream = environ.get("wsgi.input")
    # A body WebOb already copied (WebTest, an outer webob.Request) is read in full and
    # will be sought, which a wrapper cannot do: leave it alone.
    if stream is None or environ.get("webob.is_body_seekable"):
        _check_length(length, max_body)
    elif length:
        # Buffered files (wsgiref's socket file, an in-memory body) already read in full.
        if _check_length(length, max_body) and type(stream) not in _FULL_READ_TYPES:
            environ["wsgi.input"] = BodyInput(stream, int(length))
    elif max_body is not None and _has_unannounced_body(environ):
        # Without a limit the server's own stream is left as it is: code that streams
        # the body (an echo) keeps reading at the pace the bytes arrive.
        environ["wsgi.input"] = BodyInput(stream, limit=max_body)


def _check_length(length: str | None, max_body: int | None) -> int:
    if not length:
        return 0
    # RFC 9110 section 8.6: 1*DIGIT, nothing else (isdigit() alone accepts "²").
    if not (length.isascii() and length.isdigit()):
        raise webob.exc.HTTPBadRequest("The Content-Length header is not a number.")
    size = int(length)
    if max_body is not None and size > max_body:
        raise webob.exc.HTTPRequestEntityTooLarge(
            f"The request body is larger than {max_body} bytes."
        )
    return size


def _has_unannounced_body(environ: dict[str, Any]) -> bool:
    if "HTTP_TRANSFER_ENCODING" in environ:
        return True
    # RFC 9112 section 6.3: an HTTP/1.x request with neither Content-Length nor
    # Transfer-Encoding has no body.  Other protocols (HTTP/2 behind a WSGI server)
    # can send one anyway, which the server says with wsgi.input_terminated.
    return bool(environ.get("wsgi.input_terminated")) and not environ.get(
        "SERVER_PROTOCOL", ""
    ).startswith("HTTP/1.")


class BodyInput:
    """A request body as a file: reads return what was asked unless the body ends.

    :param length: the announced Content-Length; the body ends there, and a stream
        that ends sooner is answered ``400 Bad Request``.
    :param limit: for a body of unknown length, the most bytes accepted; reading
        more raises ``413 Request Entity Too Large`` (``None``: no limit).
    """

    __slots__ = ("_announced", "_remaining", "_stream", "_strict")

    def __init__(self, stream: Any, length: int | None = None, *, limit: int | None = None):
        self._stream = stream
        self._announced = length is not None
        # Bytes the body may still give; with a limit one more is asked for, to see
        # whether the body goes past it.
        self._strict = limit is not None
        if length is not None:
            self._remaining = length
        else:
            self._remaining = _UNBOUNDED if limit is None else limit

    def read(self, size: int | None = -1) -> bytes:
        return self._gather(self._stream.read, self._allowance(size), line=False)

    def read1(self, size: int | None = -1) -> bytes:
        """Up to ``size`` bytes of what has arrived: one read of the server's stream, as
        :meth:`io.BufferedIOBase.read1`; ``b""`` only at the end.  For code that passes
        the body on as it comes (an echo, a proxy)."""
        want = self._allowance(size)
        data: bytes = self._stream.read(min(want, READ_BLOCK)) if want > 0 else b""
        if not data and want > 0:
            self._check_complete()
        return self._counted(data)

    def readline(self, size: int | None = -1) -> bytes:
        return self._gather(self._stream.readline, self._allowance(size), line=True)

    def readlines(self, hint: int | None = -1) -> list[bytes]:
        lines: list[bytes] = []
        total = 0
        while line := self.readline():
            lines.append(line)
            total += len(line)
            if hint is not None and 0 < hint <= total:
                break
        return lines

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        line = self.readline()
        if not line:
            raise StopIteration
        return line

    def _gather(self, fetch: Callable[[int], bytes], want: int, *, line: bool) -> bytes:
        parts: list[bytes] = []
        got = 0
        # Bounded: every pass gets at least one byte or ends the loop.
        while got < want:
            piece = fetch(min(want - got, READ_BLOCK))
            if not piece:
                self._check_complete(got)
                break
            parts.append(piece)
            got += len(piece)
            if line and piece.endswith(b"\n"):
                break
        return self._counted(parts[0] if len(parts) == 1 else b"".join(parts))

    def _check_complete(self, pending: int = 0) -> None:
        # The stream ended: fine, unless Content-Length promised more (a client that
        # went away, or a server that let a short body through).
        if self._announced and self._remaining - pending > 0:
            self._remaining = 0
            raise webob.exc.HTTPBadRequest("The request body is shorter than its Content-Length.")

    def _allowance(self, size: int | None) -> int:
        most = self._remaining + 1 if self._strict else self._remaining
        return most if size is None or size < 0 else min(size, most)

    def _counted(self, data: bytes) -> bytes:
        self._remaining -= len(data)
        if self._remaining < 0:
            # Only a limited body can go below zero: an announced one stops at its end.
            raise webob.exc.HTTPRequestEntityTooLarge("The request body is too large.")
        return data


class ReleasingBody:
    """A response body that closes the request's temporary files once it is closed.

    A copied request body may still be read while the response streams (an echo), so
    its file can only go when the server closes the response (PEP 3333).
    """

    __slots__ = ("_body", "_release")

    def __init__(self, body: Iterable[bytes], release: Callable[[], None]) -> None:
        self._body = body
        self._release = release

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._body)

    def close(self) -> None:
        try:
            close = getattr(self._body, "close", None)
            if close is not None:
                close()
        finally:
            self._release()
