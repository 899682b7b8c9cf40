"""The server side of one HTTP/1.1 connection: bytes in, request events out (sans-IO).

``ServerConnection`` never touches a socket.  The server feeds it what it read with
:meth:`~ServerConnection.receive_data` and pulls events with
:meth:`~ServerConnection.next_event` until it gets ``NEED_DATA`` (read more) or
``CLOSED`` (no more requests on this connection).
"""

from __future__ import annotations

import enum

from httpkit.errors import ProtocolError
from httpkit.h1.body import ChunkedReader, LengthReader
from httpkit.h1.events import CLOSED, NEED_DATA, Data, EndOfMessage, Event
from httpkit.h1.head import parse_request_head
from httpkit.h1.limits import Limits

__all__ = ["ParserState", "ServerConnection"]


class ParserState(enum.Enum):
    """Where the connection is in its stream of requests."""

    IDLE = "idle"  # between requests, no byte of the next one yet
    HEAD = "head"  # part of a request head has arrived
    BODY = "body"  # the head was given out; its body is not finished
    CLOSED = "closed"  # no more requests will be read


_DEFAULT_LIMITS = Limits()
# The body reader of every request without a body: a LengthReader of 0 never changes.
_NO_BODY = LengthReader(0)


class ServerConnection:
    """Parses the requests of one connection, one event per :meth:`next_event` call.

    Any violation raises :class:`~httpkit.errors.ProtocolError` (its ``status`` is the
    response to send) and leaves the connection CLOSED.
    """

    __slots__ = (
        "_body",
        "_buffer",
        "_closed",
        "_direct",
        "_eof",
        "_keep_alive",
        "_limits",
        "_line_end",
        "_scan",
    )

    def __init__(self, limits: Limits = _DEFAULT_LIMITS) -> None:
        if not isinstance(limits, Limits):
            raise TypeError(f"limits must be a Limits, not {type(limits).__name__}")
        self._limits = limits
        self._buffer = bytearray()
        # A received piece of a Content-Length body, kept as the very bytes object the
        # caller passed, so that it can reach the application without being copied.
        self._direct: bytes | None = None
        self._eof = False
        self._closed = False
        # The body reader of the current request; None while reading a head.
        self._body: LengthReader | ChunkedReader | None = None
        self._keep_alive = True
        self._line_end = -1  # where the request line's CRLF is, once seen
        self._scan = 0  # where to resume looking for the end of the head

    @property
    def state(self) -> ParserState:
        """Where the connection is: IDLE, HEAD, BODY or CLOSED (see :class:`ParserState`)."""
        if self._closed:
            return ParserState.CLOSED
        if self._body is not None:
            return ParserState.BODY
        return ParserState.HEAD if self._buffer else ParserState.IDLE

    @property
    def buffered(self) -> int:
        """Bytes received but not yet parsed."""
        direct = self._direct
        return len(self._buffer) + (0 if direct is None else len(direct))

    def receive_data(self, data: bytes) -> None:
        """Add bytes read from the peer; ``b""`` means the peer closed its side (EOF)."""
        if self._closed:
            return  # a closed connection ignores whatever still arrives
        if not data:
            self._eof = True
        elif self._eof:
            raise RuntimeError("receive_data() called with data after EOF")
        else:
            body = self._body
            if (
                type(body) is LengthReader
                and body.remaining
                and not self._buffer
                and self._direct is None
                and type(data) is bytes
            ):
                self._direct = data  # handed on as it is by the next body event
                return
            if self._direct is not None:
                self._buffer += self._direct
                self._direct = None
            self._buffer += data

    def switch_protocols(self) -> bytes:
        """After a request answered with ``101 Switching Protocols`` (RFC 9110 15.2.2):
        the bytes received after that request, which are the new protocol's.  No more
        HTTP is parsed on this connection."""
        direct = self._direct
        data = bytes(self._buffer) + (direct if direct is not None else b"")
        self._close()
        return data

    def next_event(self) -> Event:
        """The next event: Request, Data, EndOfMessage, NEED_DATA or CLOSED."""
        if self._closed:
            return CLOSED
        try:
            if self._body is None:
                return self._next_head()
            return self._next_body_event()
        except ProtocolError:
            self._close()
            raise

    def _close(self) -> None:
        self._closed = True
        self._body = None
        self._direct = None
        self._buffer.clear()

    def _next_body_event(self) -> Event:
        assert self._body is not None  # only called while a body is being read
        direct = self._direct
        if direct is not None:
            return self._direct_data(direct)
        event = self._body.read(self._buffer)
        if event is None:
            if self._eof:
                raise ProtocolError("incomplete request: the body was cut short")
            return NEED_DATA
        if type(event) is EndOfMessage:
            # EndOfMessage: the next call starts the next request (or closes).
            self._body = None
            if not self._keep_alive:
                self._close()
        return event

    def _direct_data(self, direct: bytes) -> Data:
        """The body piece kept by receive_data: whole (no copy) if the body goes on."""
        self._direct = None
        body = self._body
        assert type(body) is LengthReader
        remaining = body.remaining
        if len(direct) <= remaining:
            body.remaining = remaining - len(direct)
            return Data(direct)
        self._buffer += direct[remaining:]  # the next request, pipelined (buffer is empty)
        body.remaining = 0
        return Data(direct[:remaining])

    def _next_head(self) -> Event:
        buffer = self._buffer
        # RFC 9112 2.2: one empty line before the request line is ignored.
        start = 2 if buffer.startswith(b"\r\n") else 0
        scan = max(self._scan, start)
        # One find per read, resumed where the last one stopped: rescanning a trickled
        # head from its start would cost quadratic time.
        end = buffer.find(b"\r\n\r\n", scan)
        line_end = self._line_end
        if line_end < 0:
            line_end = self._line_end = buffer.find(b"\r\n", scan)
        limits = self._limits
        if (
            end >= 0
            and line_end - start <= limits.max_request_line
            and end - line_end <= limits.max_header_bytes
        ):
            self._check_bare_lf(scan, end + 4)  # the common case: a whole head within limits
        else:
            over = self._over_limit(start, end)
            stop = len(buffer) if end < 0 else end + 4
            # Bytes past the point where a limit is exceeded are never looked at, so the
            # first violation in the stream decides the status however reads were cut.
            self._check_bare_lf(scan, stop if over is None else min(stop, over[0]))
            if over is not None:
                raise ProtocolError(over[2], over[1])
        if end < 0:
            self._scan = max(len(buffer) - 3, start)
            if not self._eof:
                return NEED_DATA
            if len(buffer) > start:
                raise ProtocolError("incomplete request: the head was cut short")
            self._close()
            return CLOSED
        head = buffer[start : end + 2].decode("latin-1")
        del buffer[: end + 4]
        self._scan = 0
        self._line_end = -1
        request = parse_request_head(head, line_end - start, limits)
        length = request.content_length
        if length is None:  # chunked
            self._body = ChunkedReader(limits, end - line_end, len(request.headers))
        else:
            self._body = LengthReader(length) if length else _NO_BODY
        self._keep_alive = request.keep_alive
        return request

    def _over_limit(self, start: int, end: int) -> tuple[int, int, str] | None:
        """If the head is over a limit: (where it was exceeded, status, message).

        ``end`` is where the head's CRLF CRLF starts (-1: not here yet).  A limit counts
        as exceeded once enough bytes are here to know it, and not one byte earlier.
        """
        limits = self._limits
        line_end = self._line_end
        too_long_at = start + limits.max_request_line + 2  # no CRLF by then: too long
        if line_end - start > limits.max_request_line or (
            line_end < 0 and len(self._buffer) >= too_long_at
        ):
            message = f"request line over {limits.max_request_line} bytes"
            return too_long_at, 414, message
        if line_end < 0:
            return None
        too_big_at = line_end + limits.max_header_bytes + 4  # no CRLF CRLF starts by then
        if end - line_end > limits.max_header_bytes or (
            end < 0 and len(self._buffer) >= too_big_at
        ):
            message = f"header section over {limits.max_header_bytes} bytes"
            return too_big_at, 431, message
        return None

    def _check_bare_lf(self, scan: int, stop: int) -> None:
        # A bare LF is an error, not a line end (RFC 9112 2.2).  Checked on the bytes new
        # since the last call, first, so the status never depends on how reads were cut,
        # and a client using bare LF is refused rather than left waiting for CRLF CRLF.
        buffer = self._buffer
        # Counting CRLFs from one byte earlier pairs an LF at ``scan`` with its CR.
        if buffer.count(b"\n", scan, stop) != buffer.count(b"\r\n", max(scan - 1, 0), stop):
            raise ProtocolError("bare LF in the request head; lines end with CRLF (RFC 9112 2.2)")
