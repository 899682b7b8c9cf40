"""The WSGI edge: runs a PEP 3333 application as the server's request handler.

:class:`WSGIHandler` turns a :class:`~httpkit.server.contract.HandlerExchange` into an
``environ`` and a ``start_response``, calls the application and gives its iterable
back to the server, which sends it and calls its ``close()``.

Differences between the execution modes that an application can notice:

* inline (``threads=0``) the request body was received in full before the call;
  ``write()`` (the legacy imperative API) buffers in the transport without
  back-pressure.  Returning an iterable is the way to stream a large response;
* on a worker thread ``wsgi.input`` streams and ``write()`` blocks while the client
  reads slowly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from httpkit.errors import ResponseError
from httpkit.h1 import split_target
from httpkit.server.contract import HandlerExchange as Exchange
from httpkit.urlprefix import OUTSIDE_PREFIX_FIELDS, outside_prefix_body, under_prefix
from httpkit.wsgi.environ import base_environ, build_environ, decode_path
from httpkit.wsgitypes import OptExcInfo, WSGIApp

__all__ = ["WSGIHandler", "parse_status"]


class WSGIHandler:
    """The server handler for one WSGI application."""

    def __init__(
        self,
        app: WSGIApp,
        url_prefix: str = "",
        multithread: bool = True,
        multiprocess: bool = False,
    ) -> None:
        if not callable(app):
            raise TypeError(f"a WSGI application must be callable, not {type(app).__name__}")
        self.app = app
        self.url_prefix = url_prefix
        self._base = base_environ(url_prefix, multithread, multiprocess)

    def __call__(self, exchange: Exchange) -> Iterable[bytes]:
        raw_path, query = split_target(exchange.request.target)
        path = decode_path(raw_path)
        prefix = self.url_prefix
        if prefix:
            if not under_prefix(path, prefix):
                exchange.start_response(404, "Not Found", OUTSIDE_PREFIX_FIELDS)
                return [outside_prefix_body(prefix)]
            path = path[len(prefix) :]
        environ = build_environ(exchange, self._base, path, query)
        return self.app(environ, _StartResponse(exchange))


class _StartResponse:
    """``start_response`` for one request (PEP 3333 "The start_response() Callable")."""

    __slots__ = ("_exchange",)

    def __init__(self, exchange: Exchange) -> None:
        self._exchange = exchange

    def __call__(
        self,
        status: str,
        headers: list[tuple[str, str]],
        exc_info: OptExcInfo | None = None,
    ) -> Callable[[bytes], None]:
        exchange = self._exchange
        if exc_info is not None:
            try:
                if exchange.head_sent:
                    # Too late to replace the response: re-raise, the server cuts it.
                    error = exc_info[1]
                    if error is None:  # sys.exc_info() taken outside an except block
                        raise ResponseError("start_response() after the head was sent")
                    raise error.with_traceback(exc_info[2])
            finally:
                exc_info = None  # PEP 3333: avoid a reference cycle through the frame
        elif exchange.response_started:
            raise ResponseError("start_response() called a second time without exc_info")
        code, reason = parse_status(status)
        if type(headers) is not list:
            raise ResponseError(f"response headers must be a list, not {type(headers).__name__}")
        for header in headers:
            if type(header) is not tuple or len(header) != 2:
                raise ResponseError(f"a response header must be a (name, value) tuple: {header!r}")
            if type(header[0]) is not str or type(header[1]) is not str:
                raise ResponseError(f"header names and values must be str: {header!r}")
        exchange.start_response(code, reason, headers)
        return exchange.send


_STATUS_CACHE: dict[str, tuple[int, str]] = {}  # the few status lines an app uses
_STATUS_CACHE_SIZE = 256


def parse_status(status: str) -> tuple[int, str]:
    """Parse "200 OK" into (200, "OK"); ResponseError unless 3 digits, a space and a reason.

    The reason phrase itself is checked by the framer (no control characters).
    """
    parsed = _STATUS_CACHE.get(status) if type(status) is str else None
    if parsed is not None:
        return parsed
    if type(status) is not str:
        raise ResponseError(f"status must be a str, not {type(status).__name__}")
    code = status[:3]
    if len(status) < 4 or status[3] != " " or not (code.isascii() and code.isdigit()):
        raise ResponseError(f"status must look like '200 OK', got {status!r}")
    if code[0] == "0":
        raise ResponseError(f"status code must be 100-999, got {status!r}")
    parsed = int(code), status[4:]
    if len(_STATUS_CACHE) < _STATUS_CACHE_SIZE:
        _STATUS_CACHE[status] = parsed
    return parsed
