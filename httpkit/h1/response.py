"""Frame one response into bytes: status line, headers, body pieces, end (RFC 9112 4-7).

The framing is chosen when the head is written: Content-Length when the length is
known, chunked for an HTTP/1.1 client when it is not, else the body is delimited by
closing the connection (HTTP/1.0).  Nothing the application passes can split the
response: names must be tokens and values may not hold CR, LF, NUL or other controls.
"""

from __future__ import annotations

import enum

from httpkit.errors import ResponseError
from httpkit.h1.events import Request
from httpkit.h1.grammar import FIELD_VALUE, TOKEN, parse_decimal

__all__ = ["CONTINUE", "ResponseFramer"]

CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"

# RFC 9112 4: reason-phrase = 1*( HTAB / SP / VCHAR / obs-text ), here possibly empty.
_REASON = FIELD_VALUE
# Hop-by-hop fields belong to the server, not the application (PEP 3333, RFC 9110 7.6.1).
# Connection is allowed so that an application can ask for "Connection: close".
_HOP_BY_HOP = frozenset(
    ("transfer-encoding", "keep-alive", "upgrade", "te", "trailer", "proxy-connection")
)


class _Framing(enum.Enum):
    NONE = "none"  # no body: HEAD, 204, 304
    LENGTH = "length"  # Content-Length
    CHUNKED = "chunked"  # Transfer-Encoding: chunked
    CLOSE = "close"  # the body ends when the connection closes (HTTP/1.0 only)


class ResponseFramer:
    """Frames one response to one request (``None``: a request that could not be parsed).

    Call :meth:`head` once, then :meth:`body` for each piece, then :meth:`end`.
    """

    __slots__ = ("_framing", "_left", "_request", "keep_alive")

    def __init__(self, request: Request | None) -> None:
        self._request = request
        self._framing: _Framing | None = None
        self._left = 0  # bytes still owed under Content-Length framing
        self.keep_alive = False  # decided by head()

    def head(
        self,
        status: int,
        reason: str,
        headers: list[tuple[str, str]],
        *,
        body_length: int | None = None,
        close: bool = False,
    ) -> bytes:
        """The status line and header section, with framing and Connection fields added."""
        if self._framing is not None:
            raise ResponseError("head() was already called for this response")
        if type(status) is not int or not 200 <= status <= 599:
            # RFC 9110 15: codes outside 100..599 are invalid.  A 1xx is interim: sent
            # as the final response, the client would wait for another one and take the
            # next request's response for this one's (101 would even switch protocols).
            # The one interim response httpkit sends is CONTINUE.
            raise ResponseError(f"status must be an int from 200 to 599, not {status!r}")
        request = self._request
        if request is not None and request.method == "CONNECT" and status < 300:
            # RFC 9112 6.3: a 2xx makes the connection a tunnel; httpkit never tunnels.
            raise ResponseError("a 2xx answer to CONNECT would open a tunnel (RFC 9110 9.3.6)")
        if not isinstance(reason, str) or _REASON.fullmatch(reason) is None:
            raise ResponseError(f"invalid reason phrase {reason!r}")
        if body_length is not None and (type(body_length) is not int or body_length < 0):
            raise ResponseError(f"body_length must be an int >= 0, not {body_length!r}")
        lines = [f"HTTP/1.1 {status} {reason}\r\n"]
        app_length, app_close = _copy_app_headers(headers, lines)
        framing, length = self._choose_framing(status, app_length, body_length)
        if length is not None:
            lines.append(f"Content-Length: {length}\r\n")
        elif framing is _Framing.CHUNKED:
            lines.append("Transfer-Encoding: chunked\r\n")
        self.keep_alive = (
            request is not None
            and request.keep_alive
            and framing is not _Framing.CLOSE
            and not close
            and not app_close
        )
        if not self.keep_alive:
            lines.append("Connection: close\r\n")
        elif request is not None and request.http_version == "1.0":
            lines.append("Connection: keep-alive\r\n")  # RFC 9112 9.3: 1.0 must be told
        lines.append("\r\n")
        self._framing = framing
        self._left = length or 0
        return "".join(lines).encode("latin-1")

    def _choose_framing(
        self, status: int, app_length: int | None, body_length: int | None
    ) -> tuple[_Framing, int | None]:
        # RFC 9110 8.6: no Content-Length on 204; a 304 or a HEAD response may carry
        # the one the 200 / GET would have had (RFC 9110 6.4.1: no content).
        if status == 204:
            return _Framing.NONE, None
        if status == 304:
            return _Framing.NONE, app_length
        length = app_length if app_length is not None else body_length
        request = self._request
        if request is not None and request.method == "HEAD":
            return _Framing.NONE, length
        if length is not None:
            return _Framing.LENGTH, length
        if request is None or request.http_version == "1.1":
            return _Framing.CHUNKED, None
        return _Framing.CLOSE, None  # RFC 9112 6.3: an HTTP/1.0 client reads to the close

    def body(self, data: bytes) -> bytes:
        """``data`` framed for the wire (``b""`` when the response carries no body)."""
        framing = self._framing
        if framing is None:
            raise ResponseError("body() called before head()")
        if framing is _Framing.LENGTH:
            if len(data) > self._left:
                raise ResponseError(
                    f"{len(data)} body bytes sent where {self._left} remained of Content-Length"
                )
            self._left -= len(data)
            return data
        if framing is _Framing.CHUNKED:
            # An empty chunk would end the body (RFC 9112 7.1): send nothing instead.
            return b"%x\r\n%b\r\n" % (len(data), data) if data else b""
        return data if framing is _Framing.CLOSE else b""

    def end(self) -> bytes:
        """The bytes that end the body: the last chunk for chunked, else nothing."""
        framing = self._framing
        if framing is None:
            raise ResponseError("end() called before head()")
        if framing is _Framing.LENGTH and self._left:
            raise ResponseError(f"response ended {self._left} bytes short of Content-Length")
        self._framing = _Framing.NONE  # further body() calls send nothing
        return b"0\r\n\r\n" if framing is _Framing.CHUNKED else b""


def _copy_app_headers(headers: list[tuple[str, str]], lines: list[str]) -> tuple[int | None, bool]:
    """Validate the application's headers into ``lines``.

    Returns the Content-Length the application set (or None) and whether it asked for
    ``Connection: close``.  Content-Length and Connection are written by the framer.
    """
    length: int | None = None
    close = False
    for name, value in headers:
        if not isinstance(name, str) or TOKEN.fullmatch(name) is None:
            raise ResponseError(f"invalid header name {name!r}")
        if not isinstance(value, str) or FIELD_VALUE.fullmatch(value) is None:
            raise ResponseError(f"invalid value for header {name!r}: {value!r}")
        lower = name.lower()
        if lower in _HOP_BY_HOP:
            raise ResponseError(f"hop-by-hop header {name!r} is set by the server (PEP 3333)")
        if lower == "connection":
            close = close or "close" in (item.strip(" \t").lower() for item in value.split(","))
        elif lower == "content-length":
            declared = parse_decimal(value.strip(" \t"))
            if declared is None or (length is not None and declared != length):
                raise ResponseError(f"invalid or conflicting Content-Length {value!r}")
            length = declared
        else:
            lines.append(f"{name}: {value}\r\n")
    return length, close
