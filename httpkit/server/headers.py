"""Fields the server adds itself, and the small responses it sends on its own."""

from __future__ import annotations

import time
from collections.abc import Callable
from email.utils import formatdate

from httpkit.h1 import Request, ResponseFramer, field_line

__all__ = ["ServerFields", "empty_response", "error_body_size", "error_response"]


class ServerFields:
    """The ``Date`` and ``Server`` lines of every response, as checked bytes.

    ``Date`` is reformatted once a second (formatting a date costs more than the rest
    of a response's framing); an empty ``server`` value sends no ``Server`` field.
    """

    __slots__ = ("_clock", "_date", "_second", "server")

    def __init__(self, server: str, clock: Callable[[], float] = time.time) -> None:
        self.server = field_line("Server", server) if server else b""
        self._clock = clock
        self._second = -1
        self._date = b""

    @property
    def date(self) -> bytes:
        """RFC 9110 6.6.1: an origin server with a clock must send Date."""
        now = int(self._clock())
        if now != self._second:
            self._date = field_line("Date", formatdate(now, usegmt=True))
            self._second = now
        return self._date


_REASONS = {
    200: "OK",
    400: "Bad Request",
    408: "Request Timeout",
    413: "Content Too Large",
    414: "URI Too Long",
    417: "Expectation Failed",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
    501: "Not Implemented",
    503: "Service Unavailable",
    505: "HTTP Version Not Supported",
}


def error_response(
    framer: ResponseFramer,
    status: int,
    fields: ServerFields,
    *,
    close: bool = True,
    extra: list[tuple[str, str]] | None = None,
) -> bytes:
    """A short plain-text response the server sends itself, framed by ``framer``.

    The body names the status only: details of what went wrong stay in the server's log.
    """
    reason = _REASONS.get(status, "Error")
    body = _error_body(status, reason)
    headers = [("Content-Type", "text/plain; charset=utf-8"), *(extra or ())]
    framer.check(status, reason, headers, date=fields.date, server=fields.server)
    data = framer.emit_head(body_length=len(body), close=close)
    return data + framer.body(body) + framer.end()


def _error_body(status: int, reason: str) -> bytes:
    return f"{status} {reason}\n".encode("ascii")


def error_body_size(request: Request | None, status: int) -> int:
    """The body bytes :func:`error_response` sends (none to a HEAD), for the access log."""
    if request is not None and request.method == "HEAD":
        return 0
    return len(_error_body(status, _REASONS.get(status, "Error")))


def empty_response(
    framer: ResponseFramer,
    status: int,
    fields: ServerFields,
    extra: list[tuple[str, str]],
    *,
    close: bool = False,
) -> bytes:
    """A response without content that the server sends itself (``OPTIONS *``);
    ``close`` says ``Connection: close`` whatever the request asked."""
    framer.check(status, _REASONS[status], extra, date=fields.date, server=fields.server)
    return framer.emit_head(body_length=0, close=close) + framer.end()
