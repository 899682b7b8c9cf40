"""Headers the server adds itself, and the small responses it sends on its own."""

from __future__ import annotations

import time
from email.utils import formatdate

from httpkit.h1 import ResponseFramer

__all__ = ["error_response", "http_date", "server_headers"]


class _DateCache:
    """The ``Date`` and ``Server`` pair of the current second (formatting a date costs
    more than the rest of a response's framing)."""

    second = -1
    server = ""
    headers: list[tuple[str, str]] = []


def http_date() -> str:
    """The current time as an IMF-fixdate (RFC 9110 5.6.7)."""
    return formatdate(time.time(), usegmt=True)


def server_headers(server: str) -> list[tuple[str, str]]:
    """``Date`` (RFC 9110 6.6.1: an origin server with a clock must send it) and ``Server``.

    The list is shared: callers concatenate, never mutate it.
    """
    cache = _DateCache
    now = int(time.time())
    if now != cache.second or server != cache.server:
        cache.headers = [("Date", formatdate(now, usegmt=True)), ("Server", server)]
        cache.second = now
        cache.server = server
    return cache.headers


_REASONS = {
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
    server: str,
    *,
    close: bool = True,
    extra: list[tuple[str, str]] | None = None,
) -> bytes:
    """A short plain-text response the server sends itself, framed by ``framer``.

    The body names the status only: details of what went wrong stay in the server's log.
    """
    reason = _REASONS.get(status, "Error")
    body = f"{status} {reason}\n".encode("ascii")
    headers = [("Content-Type", "text/plain; charset=utf-8"), *server_headers(server)]
    if extra:
        headers += extra
    data = framer.head(status, reason, headers, body_length=len(body), close=close)
    return data + framer.body(body) + framer.end()
