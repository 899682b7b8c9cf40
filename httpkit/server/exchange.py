"""One request and its response: the object a handler is given.

An :class:`Exchange` has three parts:

* the request head (:attr:`request`) and who sent it (:attr:`connection`);
* the body reader, :meth:`read`.  Inline (``threads=0``) the whole body was received
  (spooled to a temporary file above 1 MiB) before the handler was called, so a read
  never blocks the event loop.  On a worker thread the body streams: a read waits until
  the event loop has received more, and ``100 Continue`` goes out on the first read;
* the response writer: :meth:`start_response` records the status and headers, which are
  framed and sent with the first non-empty piece of body (PEP 3333), and :meth:`send`
  writes a piece, waiting (on a worker thread) while the client reads slowly.

Everything touching the transport happens on the event-loop thread; a worker thread
hands work over with ``call_soon_threadsafe``.
"""

from __future__ import annotations

import tempfile
import threading
import time
from collections.abc import Iterable
from typing import IO, TYPE_CHECKING, Protocol

from httpkit import h1
from httpkit.errors import ProtocolError, ResponseError
from httpkit.server.app import ClientDisconnectedError, ConnectionInfo
from httpkit.server.headers import server_headers

if TYPE_CHECKING:
    from httpkit.server.protocol import HTTPConnection

__all__ = ["Exchange", "SupportsReadBody"]

SPOOL_IN_MEMORY = 1 << 20  # inline mode: bodies above this go to a temporary file
BODY_HIGH_WATER = 256 * 1024  # threaded mode: stop reading the socket above this
BODY_LOW_WATER = 64 * 1024  # ... and start again below this
WAIT_STEP = 0.25  # seconds between checks of a blocked worker (bounds every wait)


class SupportsReadBody(Protocol):
    def read(self, size: int = -1) -> bytes: ...


class Exchange:
    """One request and its response (see the module documentation)."""

    __slots__ = (
        "_body",
        "_body_cond",
        "_continue_pending",
        "_headers",
        "_reason",
        "_spool",
        "body_complete",
        "body_error",
        "body_length_hint",
        "bytes_sent",
        "conn",
        "connection",
        "framer",
        "head_sent",
        "request",
        "started",
        "status",
        "threaded",
    )

    def __init__(self, conn: HTTPConnection, request: h1.Request, threaded: bool) -> None:
        self.conn = conn
        self.request = request
        self.connection: ConnectionInfo = conn.info
        self.threaded = threaded
        # The access log's request duration; no clock read when nobody logs it.
        self.started = time.perf_counter() if conn.server.access_log is not None else 0.0
        self.framer = h1.ResponseFramer(request)
        self.status = 0  # 0 until start_response()
        self._reason = ""
        self._headers: list[tuple[str, str]] = []
        self.head_sent = False
        self.bytes_sent = 0
        self.body_length_hint: int | None = None  # the body's length, when known in advance
        has_body = request.chunked or bool(request.content_length)
        self.body_complete = not has_body
        self.body_error: ProtocolError | None = None
        self._continue_pending = has_body and request.expect_continue
        self._body = bytearray()
        self._spool: IO[bytes] | None = None
        self._body_cond: threading.Condition | None = None
        if has_body and threaded:
            self._body_cond = threading.Condition(threading.Lock())

    # -- the request body: the event loop pushes, the handler reads --------------------

    @property
    def body_buffered(self) -> int:
        return len(self._body)

    def push_body(self, data: bytes) -> None:
        """Event loop: a piece of body arrived."""
        if self._body_cond is not None:
            with self._body_cond:
                self._body += data
                self._body_cond.notify()
        elif self._spool is not None:
            self._spool.write(data)
        elif len(self._body) + len(data) > SPOOL_IN_MEMORY:
            self._spool = tempfile.TemporaryFile()  # noqa: SIM115 (closed by close_body)
            self._spool.write(self._body)
            self._spool.write(data)
            self._body = bytearray()
        else:
            self._body += data

    def end_body(self, error: ProtocolError | None = None) -> None:
        """Event loop: the body is complete, or could not be read (``error``)."""
        self.body_error = error
        if self._body_cond is not None:
            with self._body_cond:
                self.body_complete = True
                self._body_cond.notify_all()
        else:
            self.body_complete = True
            if self._spool is not None:
                self._spool.seek(0)

    def wake_readers(self) -> None:
        """Event loop: the connection was lost; a blocked read must give up."""
        if self._body_cond is not None:
            with self._body_cond:
                self._body_cond.notify_all()

    def read(self, size: int = -1) -> bytes:
        """Up to ``size`` bytes of the body (all that is left if negative); b"" at the end.

        Raises the :class:`ProtocolError` that stopped the body (e.g. 413), or
        :class:`ClientDisconnectedError` if the client went away before sending it all.
        """
        if self._body_cond is not None:
            return self._read_streaming(size)
        if self._spool is not None:
            return self._spool.read(size)
        if size < 0 or size >= len(self._body):
            data = bytes(self._body)
            self._body.clear()
        else:
            data = bytes(self._body[:size])
            del self._body[:size]
        return data

    def _read_streaming(self, size: int) -> bytes:
        """Worker thread: wait for body bytes; ``size < 0`` collects them to the end."""
        assert self._body_cond is not None
        conn = self.conn
        if self._continue_pending:
            self._continue_pending = False
            if not self.head_sent:  # RFC 9110 10.1.1: no 100 once a final status went out
                conn.call_on_loop(conn.write_interim, h1.CONTINUE)
        pieces: list[bytes] = []
        with self._body_cond:
            while True:
                if self._body:
                    pieces.append(self._take(size))
                    if size >= 0:
                        break
                if self.body_complete:
                    break
                if conn.lost:
                    raise ClientDisconnectedError("client closed the connection during the body")
                self._body_cond.wait(WAIT_STEP)
            if self.body_error is not None and (size < 0 or not pieces):
                raise self.body_error
        return pieces[0] if len(pieces) == 1 else b"".join(pieces)

    def _take(self, size: int) -> bytes:
        """Up to ``size`` buffered bytes (all if negative); asks for more when drained."""
        body = self._body
        if size < 0 or size >= len(body):
            data = bytes(body)
            body.clear()
        else:
            data = bytes(body[:size])
            del body[:size]
        conn = self.conn
        if conn.reading_paused and len(body) < BODY_LOW_WATER:
            conn.call_on_loop(conn.resume_body_reading)
        return data

    def close_body(self) -> None:
        if self._spool is not None:
            self._spool.close()

    # -- the response ------------------------------------------------------------------

    def start_response(self, status: int, reason: str, headers: list[tuple[str, str]]) -> None:
        """Record the status line and headers; they go out with the first body bytes."""
        if self.head_sent:
            raise ResponseError("the response head was already sent")
        self.status = status
        self._reason = reason
        self._headers = headers

    def frame_head(self, body_length: int | None) -> bytes:
        """The response head as bytes; validates it (ResponseError) and marks it sent."""
        if not self.status:
            raise ResponseError("the application returned without starting a response")
        headers = self._headers + server_headers(self.conn.settings.server_header)
        # Keep the connection only if the request body was read to its end, so that the
        # next request starts at a known byte.
        head = self.framer.head(
            self.status,
            self._reason,
            headers,
            body_length=body_length,
            # A draining server tells the client not to send another request here.
            close=not self.body_complete
            or self.body_error is not None
            or self.conn.server.draining,
        )
        self.head_sent = True
        return head

    def frame_whole(self, pieces: list[bytes] | tuple[bytes, ...]) -> bytes:
        """Head, body and end of a response whose body is known in full."""
        body = pieces[0] if len(pieces) == 1 else b"".join(pieces)
        if type(body) is not bytes:
            body = _check_bytes(pieces)
        framer = self.framer
        head = b"" if self.head_sent else self.frame_head(len(body))
        data = b"".join((head, framer.body(body), framer.end()))  # one copy, not two
        self.bytes_sent += len(body)
        return data

    def send(self, piece: bytes) -> None:
        """Send one piece of the body (the head first if not yet sent).

        On a worker thread this waits while the client is not reading fast enough.
        """
        if type(piece) is not bytes:
            piece = _check_bytes([piece])
        if not piece:
            return
        if self.head_sent:
            data = self.framer.body(piece)
        else:
            data = self.frame_head(self.body_length_hint) + self.framer.body(piece)
        self.bytes_sent += len(piece)
        if self.threaded:
            self.conn.write_from_thread(data)
        else:
            self.conn.write(data)

    def frame_end(self) -> bytes:
        """What is left to send once the body iterable is exhausted."""
        head = b"" if self.head_sent else self.frame_head(0)
        return head + self.framer.end()

    def app_content_length(self) -> int | None:
        """The Content-Length the application set (already validated by the framer)."""
        for name, value in self._headers:
            if name.lower() == "content-length" and value.isdigit():
                return int(value)
        return None

    @property
    def keep_alive(self) -> bool:
        return self.framer.keep_alive


def _check_bytes(pieces: Iterable[object]) -> bytes:
    """Join body pieces that are not all bytes, refusing str (PEP 3333: bytestrings)."""
    joined = bytearray()
    for piece in pieces:
        if isinstance(piece, str) or not isinstance(piece, (bytes, bytearray, memoryview)):
            raise ResponseError(f"response body pieces must be bytes, got {type(piece).__name__}")
        joined += piece
    return bytes(joined)
