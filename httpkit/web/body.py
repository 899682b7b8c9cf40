"""Request bodies: the announced length checked, ``wsgi.input`` read as a file within max_body.

A WSGI server may return less than asked from ``wsgi.input.read(n)`` before the body
ends.  Code written for files does not expect that: a single ``read()`` gets part of
the body, and WebOb's Content-Length reader takes a short read for a client that went
away.  So the router reads the body through :class:`httpkit.bodyreader.BodyReader`,
which also counts it against ``max_body``:

* on httpkit's own server ``wsgi.input`` already is one: the router only sets its limit;
* under another server (gunicorn, waitress, wsgiref, WebTest) the router puts one in
  front of a body of announced length, and, with ``max_body``, of a body of unannounced
  length (chunked).

The reader raises :class:`httpkit.errors.RequestBodyError` (400 for a body shorter than
its Content-Length, 413 past the limit); :func:`http_error` makes it the
``webob.exc`` response the router sends.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Iterator

import webob.exc

from httpkit.bodyreader import BodyReader
from httpkit.errors import ProtocolError
from httpkit.wsgitypes import Environ

__all__ = ["ReleasingBody", "guard_body", "http_error"]

# Streams whose read(n) already returns n bytes unless the body ends.
_FULL_READ_TYPES = (io.BytesIO, io.BufferedReader)


def guard_body(environ: Environ, max_body: int | None) -> None:
    """Check the announced length against ``max_body``; read the body's stream as a file.

    Raises 400 for a Content-Length that is not a number, 413 for one over the limit.
    A request without a body is left alone (nothing to wrap on the common GET).
    """
    length = environ.get("CONTENT_LENGTH")
    size = _check_length(length, max_body)
    stream = environ.get("wsgi.input")
    if stream is None or environ.get("webob.is_body_seekable"):
        # A body WebOb already copied (WebTest, an outer webob.Request) is read in full
        # and will be sought, which a reader in front of it cannot do: leave it alone.
        return
    if isinstance(stream, BodyReader):
        # httpkit's server (or an outer router): already a file; only the limit to add.
        if max_body is not None:
            stream.limit_to(max_body)
    elif length:
        # Buffered files (wsgiref's socket file, an in-memory body) already read in full.
        if size and type(stream) not in _FULL_READ_TYPES:
            environ["wsgi.input"] = BodyReader(stream, size)
    elif max_body is not None and _has_unannounced_body(environ):
        # Without a limit another server's stream is left as it is: code that streams
        # the body (an echo) keeps reading at the pace the bytes arrive.
        environ["wsgi.input"] = BodyReader(stream, limit=max_body)


def http_error(error: ProtocolError) -> webob.exc.HTTPException:
    """The ``webob.exc`` response for a request the client got wrong (a body too large,
    cut short...), with the status it carries and its message as the detail."""
    response_class = webob.exc.status_map.get(error.status)
    if response_class is None or not issubclass(response_class, webob.exc.HTTPError):
        response_class = webob.exc.HTTPBadRequest
    exception: webob.exc.HTTPException = response_class(str(error))
    return exception


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


def _has_unannounced_body(environ: Environ) -> bool:
    if "HTTP_TRANSFER_ENCODING" in environ:
        return True
    # RFC 9112 section 6.3: an HTTP/1.x request with neither Content-Length nor
    # Transfer-Encoding has no body.  Other protocols (HTTP/2 behind a WSGI server)
    # can send one anyway, which the server says with wsgi.input_terminated.
    return bool(environ.get("wsgi.input_terminated")) and not environ.get(
        "SERVER_PROTOCOL", ""
    ).startswith("HTTP/1.")


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
