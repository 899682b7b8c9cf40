"""Frame one response into bytes: status line, headers, body pieces, end (RFC 9112 4-7).

The framing is chosen when the head is written: Content-Length when the length is
known, chunked for an HTTP/1.1 client when it is not, else the body is delimited by
closing the connection (HTTP/1.0).  Nothing the application passes can split the
response: names must be tokens and values may not hold CR, LF, NUL or other controls.
"""

from __future__ import annotations

from typing import TypeVar

from httpkit.errors import ResponseError
from httpkit.h1.events import Request
from httpkit.h1.grammar import FIELD_VALUE, TOKEN, parse_decimal

__all__ = ["CONTINUE", "ResponseFramer", "field_line"]

CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"

# RFC 9112 4: reason-phrase = 1*( HTAB / SP / VCHAR / obs-text ), here possibly empty.
_REASON = FIELD_VALUE
# Hop-by-hop fields belong to the server, not the application (PEP 3333, RFC 9110 7.6.1).
# Connection is allowed so that an application can ask for "Connection: close".
_HOP_BY_HOP = frozenset(
    ("transfer-encoding", "keep-alive", "upgrade", "te", "trailer", "proxy-connection")
)

# How the body is delimited, chosen by head().  Plain ints: body() compares them for
# every piece, and an enum member lookup costs several times more.
_UNDECIDED = 0  # head() not called yet
_NO_BODY = 1  # HEAD, 204, 304, or after end()
_LENGTH = 2  # Content-Length
_CHUNKED = 3  # Transfer-Encoding: chunked
_CLOSE = 4  # the body ends when the connection closes (HTTP/1.0 only)


# RFC 9110 5.3: a sender must not repeat a field whose grammar is one value (not a
# #list); two Content-Type or Date lines leave the client to guess which one counts.
# Each such response field gets a bit, so that a response's framer sees a repeat with
# one test.  Content-Length is checked by value apart (its repeats may agree), and
# Set-Cookie is the known exception that repeats.  Date and Server are also the fields
# the server adds itself unless the application set its own.
_OWN_DATE = 1
_OWN_SERVER = 2
_ONE_VALUE_FIELDS = {
    "date": _OWN_DATE,  # 6.6.1
    "server": _OWN_SERVER,  # 10.2.4
    "content-type": 1 << 2,  # 8.3
    "location": 1 << 3,  # 10.2.2
    "etag": 1 << 4,  # 8.8.3
    "last-modified": 1 << 5,  # 8.8.2
    "content-location": 1 << 6,  # 8.7
    "content-range": 1 << 7,  # 14.4
    "retry-after": 1 << 8,  # 10.2.3
    "age": 1 << 9,  # RFC 9111 5.1
    "expires": 1 << 10,  # RFC 9111 5.3
}

# What a checked application field becomes: its line on the wire (bytes), or for a
# one-value field (its bit above, its line); for the two fields the framer writes
# itself, the Content-Length it declares (int) or whether a Connection field asks to
# close (bool).
_CheckedField = bytes | tuple[int, bytes] | int | bool

# Checked pieces of past responses, keyed by exactly what the application passed: the
# same status lines and Date, Server and Content-Type fields recur on every response,
# and checking them against the grammar costs more than the rest of the framing.  Only
# pieces that passed the checks are stored, so a hit gives bytes that were checked.
# A full cache is emptied (an application with ever-new values cannot grow memory),
# and long values are not stored.  Each dict operation is atomic, so threads may share
# them: an insert racing a clear only loses that entry.
_MAX_CACHED = 512  # entries per cache
_MAX_CACHED_CHARS = 256  # a longer name + value is checked every time
_checked_fields: dict[tuple[str, str], _CheckedField] = {}
_status_lines: dict[tuple[int, str], bytes] = {}

_Key = TypeVar("_Key")
_Value = TypeVar("_Value")


def _remember(cache: dict[_Key, _Value], key: _Key, value: _Value) -> None:
    if len(cache) >= _MAX_CACHED:
        cache.clear()
    cache[key] = value


class ResponseFramer:
    """Frames one response to one request (``None``: a request that could not be parsed).

    Call :meth:`head` once, then :meth:`body` for each piece, then :meth:`end`.
    Status lines and application fields that passed their checks are remembered, in
    small bounded caches shared by all framers and threads, so that the ``Date``,
    ``Server`` and ``Content-Type`` fields sent on every response are checked once.
    """

    __slots__ = (
        "_app_close",
        "_declared",
        "_framing",
        "_left",
        "_lines",
        "_request",
        "_status",
        "keep_alive",
    )

    def __init__(self, request: Request | None) -> None:
        self._request = request
        self._framing = _UNDECIDED
        self._left = 0  # bytes still owed under Content-Length framing
        self.keep_alive = False  # decided by emit_head()
        # Set by check(): the checked status line and fields, and what they declare.
        self._lines: list[bytes] | None = None
        self._status = 0
        self._declared: int | None = None
        self._app_close = False

    def head(
        self,
        status: int,
        reason: str,
        headers: list[tuple[str, str]],
        *,
        body_length: int | None = None,
        close: bool = False,
    ) -> bytes:
        """The status line and header section, with framing and Connection fields added.

        The one-call form of :meth:`check` then :meth:`emit_head`.
        """
        self.check(status, reason, headers)
        return self.emit_head(body_length=body_length, close=close)

    def check(
        self,
        status: int,
        reason: str,
        headers: list[tuple[str, str]],
        *,
        date: bytes = b"",
        server: bytes = b"",
    ) -> int | None:
        """Check the application's status and fields; return its declared Content-Length.

        Raises :class:`ResponseError` for anything never to send.  ``date`` and
        ``server`` are the server's own field lines (from :func:`field_line`), added
        unless the application sent its own (RFC 9110 5.3: neither field is a list).
        May be called again (a replaced response) until :meth:`emit_head`.
        """
        if self._framing:
            raise ResponseError("head() was already called for this response")
        lines = [_status_line(status, reason, self._request)]
        self._declared, self._app_close, own = _copy_app_headers(headers, lines)
        if date and not own & _OWN_DATE:
            lines.append(date)
        if server and not own & _OWN_SERVER:
            lines.append(server)
        self._status = status
        self._lines = lines
        return self._declared

    def emit_head(
        self, *, body_length: int | None = None, close: bool = False, exact: bool = False
    ) -> bytes:
        """The checked head with its framing fields; the body's framing is now fixed.

        ``body_length`` is the body's size when known in advance; the application's own
        Content-Length wins unless ``exact`` (a file's real size, which the server knows
        better than an application that measured it earlier).
        """
        if self._framing:
            raise ResponseError("head() was already called for this response")
        lines = self._lines
        if lines is None:
            raise ResponseError("emit_head() called before check()")
        if body_length is not None and (type(body_length) is not int or body_length < 0):
            raise ResponseError(f"body_length must be an int >= 0, not {body_length!r}")
        request = self._request
        declared = None if exact else self._declared
        framing, length = self._choose_framing(self._status, declared, body_length)
        if length is not None:
            lines.append(b"Content-Length: %d\r\n" % length)
        elif framing == _CHUNKED:
            lines.append(b"Transfer-Encoding: chunked\r\n")
        keep_alive = self.keep_alive = (
            request is not None
            and request.keep_alive
            and framing != _CLOSE
            and not close
            and not self._app_close
        )
        if not keep_alive:
            lines.append(b"Connection: close\r\n\r\n")
        elif request is not None and request.http_version == "1.0":
            lines.append(b"Connection: keep-alive\r\n\r\n")  # RFC 9112 9.3: 1.0 must be told
        else:
            lines.append(b"\r\n")
        self._framing = framing
        self._left = length or 0
        self._lines = None
        return b"".join(lines)

    @property
    def remaining(self) -> int | None:
        """Body bytes still owed under Content-Length framing (None for other framings)."""
        return self._left if self._framing == _LENGTH else None

    def _choose_framing(
        self, status: int, app_length: int | None, body_length: int | None
    ) -> tuple[int, int | None]:
        # RFC 9110 8.6: no Content-Length on 204; a 304 or a HEAD response may carry
        # the one the 200 / GET would have had (RFC 9110 6.4.1: no content).
        if status == 204:
            return _NO_BODY, None
        if status == 304:
            return _NO_BODY, app_length
        length = app_length if app_length is not None else body_length
        request = self._request
        if request is not None and request.method == "HEAD":
            return _NO_BODY, length
        if length is not None:
            return _LENGTH, length
        if request is None or request.http_version == "1.1":
            return _CHUNKED, None
        return _CLOSE, None  # RFC 9112 6.3: an HTTP/1.0 client reads to the close

    def body(self, data: bytes) -> bytes:
        """``data`` framed for the wire (``b""`` when the response carries no body)."""
        framing = self._framing
        if framing == _LENGTH:
            if len(data) > self._left:
                raise ResponseError(
                    f"{len(data)} body bytes sent where {self._left} remained of Content-Length"
                )
            self._left -= len(data)
            return data
        if framing == _CHUNKED:
            # An empty chunk would end the body (RFC 9112 7.1): send nothing instead.
            return b"%x\r\n%b\r\n" % (len(data), data) if data else b""
        if not framing:
            raise ResponseError("body() called before head()")
        return data if framing == _CLOSE else b""

    def sent_around(self, count: int) -> None:
        """``count`` body bytes were sent without :meth:`body` (by ``os.sendfile``)."""
        if self._framing == _LENGTH:
            if count > self._left:
                raise ResponseError(
                    f"{count} body bytes sent where {self._left} remained of Content-Length"
                )
            self._left -= count
        elif self._framing != _CLOSE:
            raise ResponseError("only a Content-Length or close-delimited body can be sent so")

    def end(self) -> bytes:
        """The bytes that end the body: the last chunk for chunked, else nothing."""
        framing = self._framing
        if framing == _LENGTH and self._left:
            raise ResponseError(f"response ended {self._left} bytes short of Content-Length")
        if not framing:
            raise ResponseError("end() called before head()")
        self._framing = _NO_BODY  # further body() calls send nothing
        return b"0\r\n\r\n" if framing == _CHUNKED else b""


def _status_line(status: int, reason: str, request: Request | None) -> bytes:
    """The checked status line; raises ResponseError for a status or reason never to send."""
    if type(status) is not int or not 200 <= status <= 599:
        # RFC 9110 15: codes outside 100..599 are invalid.  A 1xx is interim: sent
        # as the final response, the client would wait for another one and take the
        # next request's response for this one's (101 would even switch protocols).
        # The one interim response httpkit sends is CONTINUE.
        raise ResponseError(f"status must be an int from 200 to 599, not {status!r}")
    if request is not None and request.method == "CONNECT" and status < 300:
        # RFC 9112 6.3: a 2xx makes the connection a tunnel; httpkit never tunnels.
        raise ResponseError("a 2xx answer to CONNECT would open a tunnel (RFC 9110 9.3.6)")
    try:
        line = _status_lines.get((status, reason))
    except TypeError:  # an unhashable reason: refused below
        line = None
    if line is not None:
        return line
    if not isinstance(reason, str) or _REASON.fullmatch(reason) is None:
        raise ResponseError(f"invalid reason phrase {reason!r}")
    # str.join reads a str subclass's characters, never its __str__ or __format__.
    line = "".join(("HTTP/1.1 ", str(status), " ", reason, "\r\n")).encode("latin-1")
    if type(reason) is str and len(reason) <= _MAX_CACHED_CHARS:
        _remember(_status_lines, (status, reason), line)
    return line


def _copy_app_headers(
    headers: list[tuple[str, str]], lines: list[bytes]
) -> tuple[int | None, bool, int]:
    """Append the application's checked field lines to ``lines``.

    Returns the Content-Length the application set (or None), whether it asked for
    ``Connection: close``, and the bits of the one-value fields it set (``_OWN_DATE``
    and ``_OWN_SERVER`` among them).  Raises ResponseError for a repeated one.
    Content-Length and Connection are written by the framer.
    """
    length: int | None = None
    close = False
    own = 0
    known = _checked_fields.get
    append = lines.append
    for field in headers:
        try:
            checked = known(field)
        except TypeError:  # an unhashable field (a list): checked every time
            checked = None
        if checked is None:
            checked = _check_field(field)
        kind = type(checked)
        if kind is bytes:
            append(checked)  # type: ignore[arg-type]
        elif kind is tuple:  # a one-value field (Content-Type is in most responses)
            bit, line = checked  # type: ignore[misc]
            if own & bit:
                raise ResponseError(
                    f"header {field[0]!r} given twice: it takes one value (RFC 9110 5.3)"
                )
            own |= bit
            append(line)  # type: ignore[arg-type]
        elif kind is int:
            if length is not None and checked != length:
                raise ResponseError(f"conflicting Content-Length values {length} and {field[1]!r}")
            length = checked  # type: ignore[assignment]
        else:
            close = close or bool(checked)
    return length, close, own


def _check_field(field: tuple[str, str]) -> _CheckedField:
    """Check one application field (see :data:`_CheckedField`), remembering the result."""
    name, value = field
    if not isinstance(name, str) or TOKEN.fullmatch(name) is None:
        raise ResponseError(f"invalid header name {name!r}")
    if not isinstance(value, str) or FIELD_VALUE.fullmatch(value) is None:
        raise ResponseError(f"invalid value for header {name!r}: {value!r}")
    lower = name.lower()
    checked: _CheckedField
    if lower in _HOP_BY_HOP:
        raise ResponseError(f"hop-by-hop header {name!r} is set by the server (PEP 3333)")
    if lower == "connection":
        checked = "close" in (item.strip(" \t").lower() for item in value.split(","))
    elif lower == "content-length":
        declared = parse_decimal(value.strip(" \t"))
        if declared is None:
            raise ResponseError(f"Content-Length {value!r} is not a number of bytes")
        checked = declared
    else:
        # str.join reads a str subclass's characters, never its __str__ or __format__.
        line = "".join((name, ": ", value, "\r\n")).encode("latin-1")
        bit = _ONE_VALUE_FIELDS.get(lower)
        checked = line if bit is None else (bit, line)
    # Only exact strs are keys: a subclass could hash or compare in its own way.
    if type(name) is str and type(value) is str and len(name) + len(value) <= _MAX_CACHED_CHARS:
        _remember(_checked_fields, (name, value), checked)
    return checked


def field_line(name: str, value: str) -> bytes:
    """``name: value`` as a checked header line, for fields the server adds itself."""
    if TOKEN.fullmatch(name) is None or FIELD_VALUE.fullmatch(value) is None:
        raise ResponseError(f"invalid header field {name!r}: {value!r}")
    return f"{name}: {value}\r\n".encode("latin-1")
