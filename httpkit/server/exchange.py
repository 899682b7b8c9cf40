"""One request and its response: what a handler is given (a :class:`HandlerExchange`).

An :class:`Exchange` has three parts:

* the request head (:attr:`request`) and who sent it (:attr:`connection`);
* the body reader, :meth:`read`, over the :class:`~httpkit.server.reqbody.RequestBody`
  the execution mode chose (spooled inline, streaming on a worker thread; ``100
  Continue`` goes out on a worker's first read);
* the response writer: :meth:`start_response` checks the status and fields at once
  (the framer owns the head: it validates the application's Content-Length there, once)
  and :meth:`send` writes a piece, the head first.

The exchange talks to its connection only through a :class:`Channel`, the few things
it may ask of it; it never sees the connection's class or the server.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Coroutine, Iterable
from concurrent.futures import Future
from typing import IO, Any, Protocol

from httpkit import h1
from httpkit.errors import ResponseError
from httpkit.h1 import ResponseFramer
from httpkit.server.headers import ServerFields, error_body_size, error_response
from httpkit.server.info import ConnectionInfo
from httpkit.server.reqbody import RequestBody
from httpkit.server.streams import StreamSlots

__all__ = ["BodyPause", "ByteSink", "Cancellable", "Channel", "Exchange", "HandlerSide"]


class ByteSink(Protocol):
    """Where an upgraded connection's bytes go (a :class:`~httpkit.server.tunnel.Tunnel`)."""

    def push(self, data: bytes) -> bool:
        """Bytes arrived; True when the connection should pause reading."""

    def end(self) -> None:
        """The client closed its side."""

    def drain(self) -> None:
        """The server is stopping."""


class Channel(Protocol):
    """What an exchange (and the code sending its body) may ask of its connection."""

    @property
    def closing(self) -> bool:
        """Lost, or about to be: writes are dropped."""

    @property
    def writing_paused(self) -> bool:
        """Loop thread: the transport's buffer is full."""

    @property
    def draining(self) -> bool:
        """The server is stopping: no further request on this connection."""

    def write(self, data: bytes) -> None:
        """Loop thread: write now."""

    def write_from_thread(self, data: bytes) -> None:
        """Worker thread: hand bytes to the loop, waiting while the client reads slowly."""

    def call_soon(self, callback: Callable[..., Any], *args: Any) -> None:
        """Loop thread: run ``callback(*args)`` from the next loop iteration."""

    def call_on_loop(self, callback: Callable[..., Any], *args: Any) -> None:
        """Any thread: run ``callback(*args)`` on the loop thread, after earlier calls."""

    def run_on_loop(self, coroutine: Coroutine[Any, Any, None]) -> Future[None]:
        """Worker thread: run a coroutine on the loop."""

    def when_writable(self, resume: Callable[[], None]) -> None:
        """Loop thread: call ``resume`` (from a later callback) once writes may go on."""

    async def drained(self) -> None:
        """Loop thread: until writes may go on; any number of coroutines may wait."""

    def send_continue(self, exchange: Exchange) -> None:
        """Loop thread: ``100 Continue``, unless the final response has started."""

    def answered_itself(self, status: int) -> None:
        """Loop thread: the server (not the handler) answered with ``status``."""

    def finish(self, exchange: Exchange, data: bytes) -> None:
        """Loop thread: the last bytes of the response; go on with the next request."""

    def finish_soon(self, exchange: Exchange, data: bytes) -> None:
        """Loop thread: :meth:`finish` from the next loop iteration."""

    def cut(self, exchange: Exchange) -> None:
        """Loop thread: abort, so the client sees a truncated response."""

    def switch_protocols(self, exchange: Exchange, head: bytes, sink: ByteSink) -> bytes:
        """Loop thread: write the ``101`` head; from now on the connection's bytes go to
        ``sink``.  Returns those received after the request already."""

    def resume_tunnel(self) -> None:
        """Loop thread: an upgraded connection's sink has room again: read on."""

    def close(self) -> None:
        """Loop thread: close once what was written has gone out."""

    def cut_tunnel(self) -> None:
        """Loop thread: abort an upgraded connection."""

    def can_sendfile(self) -> bool:
        """Whether the transport can send a file with ``os.sendfile``."""

    async def sendfile(self, file: IO[bytes], offset: int, count: int) -> None:
        """Loop thread: ``count`` bytes of ``file`` from ``offset``, by the kernel."""

    def call_later(self, delay: float, callback: Callable[[], None]) -> Cancellable:
        """Loop thread: run ``callback()`` in ``delay`` seconds, unless cancelled."""

    def when_gone(self, callback: Callable[[], None]) -> None:
        """Loop thread: call ``callback`` (from a later callback) once a body waiting for
        events must end: the client left, closed its side, or the server stops."""


class Cancellable(Protocol):
    def cancel(self) -> None: ...


class HandlerSide(Protocol):
    """How code on the handler's thread reaches the connection: directly on the loop
    thread (inline), by handing over to the loop (a worker).  Chosen by the mode."""

    streams: StreamSlots  # the bound on open event streams

    def write(self, data: bytes) -> None:
        """Send response bytes, waiting (on a worker) while the client reads slowly."""

    def call(self, callback: Callable[..., Any], *args: Any) -> None:
        """Run ``callback(*args)`` on the loop thread."""


WakeRegistration = Callable[[Callable[[], None]], None]
BodyPause = tuple[WakeRegistration, float]  # (when_ready, timeout)


class Exchange:
    """One request and its response (see the module documentation)."""

    __slots__ = (
        "_continue_pending",
        "_fields",
        "_stream_slot",
        "body",
        "bytes_sent",
        "channel",
        "connection",
        "declared_length",
        "framer",
        "head_sent",
        "pause",
        "request",
        "response_started",
        "side",
        "started",
        "status",
    )

    def __init__(
        self,
        channel: Channel,
        request: h1.Request,
        connection: ConnectionInfo,
        *,
        fields: ServerFields,
        body: RequestBody | None,
        side: HandlerSide,
        continue_on_read: bool,
        timed: bool,
    ) -> None:
        self.channel = channel
        self.request = request
        self.connection = connection
        self._fields = fields
        self.body = body
        self.side = side
        # The access log's request duration; no clock read when nobody logs it.
        self.started = time.perf_counter() if timed else 0.0
        self.framer = ResponseFramer(request)
        self.status = 0  # 0 until start_response()
        self.response_started = False  # start_response() succeeded once
        self.declared_length: int | None = None  # the application's Content-Length
        self.head_sent = False  # the head was handed to the transport
        self.bytes_sent = 0
        self.pause: BodyPause | None = None  # the body's request to wait (pause_body)
        self._stream_slot = False  # holds one of the server's stream slots
        # Thread mode sends 100 Continue on the first read; inline, it went out at once.
        self._continue_pending = body is not None and request.expect_continue and continue_on_read

    # -- the request body --------------------------------------------------------------

    @property
    def body_complete(self) -> bool:
        return self.body is None or self.body.complete

    @property
    def body_failed(self) -> bool:
        return self.body is not None and self.body.error is not None

    def read(self, size: int = -1) -> bytes:
        """Up to ``size`` bytes of the body (all that is left if negative); b"" at the end.

        Raises the :class:`~httpkit.errors.ProtocolError` that stopped the body (e.g.
        413), or :class:`ClientDisconnectedError` if the client went away.
        """
        body = self.body
        if body is None:
            return b""
        if self._continue_pending:
            self._continue_pending = False
            # RFC 9110 10.1.1: the client waits for this before sending the body.
            self.side.call(self.channel.send_continue, self)
        return body.read(size)

    # -- the response ------------------------------------------------------------------

    def start_response(self, status: int, reason: str, headers: list[tuple[str, str]]) -> None:
        """Check and record the status and fields; they go out with the first body bytes.

        Raises :class:`ResponseError` now for anything that may never be sent.
        """
        if self.head_sent:
            raise ResponseError("the response head was already sent")
        fields = self._fields
        self.status = 0  # stays unset if the new head is refused
        self.declared_length = self.framer.check(
            status, reason, headers, date=fields.date, server=fields.server
        )
        self.status = status
        self.response_started = True

    def frame_head(self, body_length: int | None, exact: bool = False) -> bytes:
        """The checked head with its framing; the caller hands it to the transport."""
        if not self.status:
            raise ResponseError("the application returned without starting a response")
        # Keep the connection only if the request body was read to its end, so that the
        # next request starts at a known byte; a draining server says it will close.
        body = self.body
        close = (
            body is not None and (not body.complete or body.error is not None)
        ) or self.channel.draining
        return self.framer.emit_head(body_length=body_length, close=close, exact=exact)

    def frame_file_head(self, length: int) -> bytes:
        """The head of a file body of exactly ``length`` bytes (the file's real size, which
        wins over the application's Content-Length); the caller writes it at once."""
        head = self.frame_head(length, exact=True)
        self.head_sent = True
        return head

    def count_sent_around(self, count: int) -> None:
        """``count`` body bytes go out without framing, by ``os.sendfile``."""
        self.framer.sent_around(count)
        self.bytes_sent += count

    def frame_whole(self, pieces: list[bytes] | tuple[bytes, ...]) -> bytes:
        """Head, body and end of a response whose body is known in full.

        Nothing is sent if the body disagrees with the declared Content-Length: the
        ResponseError is raised while the response can still be replaced by a 500.
        """
        body = pieces[0] if len(pieces) == 1 else b"".join(pieces)
        if type(body) is not bytes:
            body = _check_bytes(pieces)
        framer = self.framer
        head = b"" if self.head_sent else self.frame_head(len(body))
        framed = framer.body(body)
        data = b"".join((head, framed, framer.end()))  # one copy, not two
        self.head_sent = True
        if framed:  # nothing goes out to a HEAD (or for a 304): the log says "-"
            self.bytes_sent += len(body)
        return data

    def frame_piece(self, piece: bytes) -> bytes:
        """One piece of the body framed for the wire, the head first if not sent yet."""
        if type(piece) is not bytes:
            piece = _check_bytes([piece])
        if self.head_sent:
            data = framed = self.framer.body(piece)
        else:
            head = self.frame_head(None)
            framed = self.framer.body(piece)
            data = head + framed
            self.head_sent = True
        if framed:  # nothing goes out to a HEAD (or for a 304)
            self.bytes_sent += len(piece)
        return data

    def send(self, piece: bytes) -> None:
        """Send one piece of the body (the head first if not yet sent).

        On a worker thread this waits while the client is not reading fast enough.
        """
        if not piece:
            return
        if self.head_sent and type(piece) is bytes:  # the common case, one call fewer
            framed = self.framer.body(piece)
            if framed:  # nothing goes out to a HEAD (or for a 304)
                self.bytes_sent += len(piece)
                self.side.write(framed)
            return
        self.side.write(self.frame_piece(piece))

    # -- long-lived responses (event streams) --------------------------------------------

    def open_stream(self) -> bool:
        """Take one of the server's stream slots; False at the bound (answer 503)."""
        if not self._stream_slot:
            self._stream_slot = self.side.streams.take()
        return self._stream_slot

    def pause_body(self, when_ready: WakeRegistration, timeout: float) -> None:
        """The body's next piece is ``b""``: wait for ``when_ready``'s wake, ``timeout``
        seconds or the client's leaving, instead of asking for a piece at once."""
        self.pause = (when_ready, timeout)

    def take_pause(self) -> BodyPause | None:
        pause, self.pause = self.pause, None
        return pause

    def end_stream(self) -> None:
        """The body is closed: give its stream slot back."""
        if self._stream_slot:
            self._stream_slot = False
            self.side.streams.give_back()

    def frame_end(self) -> bytes:
        """What is left to send once the body iterable is exhausted."""
        head = b""
        if not self.head_sent:
            head = self.frame_head(0)
            self.head_sent = True
        return head + self.framer.end()

    def switch_protocols(self, headers: list[tuple[str, str]]) -> bytes:
        """The head of a ``101 Switching Protocols`` answer with ``headers`` (checked:
        names are tokens, values hold no CR, LF or other controls).  RFC 9110 15.2.2."""
        if self.head_sent or self.response_started:
            raise ResponseError("the response has already started")
        lines = [b"HTTP/1.1 101 Switching Protocols\r\n"]
        lines += [h1.field_line(name, value) for name, value in headers]
        lines += [self._fields.server, b"\r\n"]
        self.status = 101
        self.head_sent = True
        self.response_started = True
        return b"".join(lines)

    def error_response(self, status: int) -> bytes:
        """A server error response replacing whatever the application had started."""
        self.status = status
        self.head_sent = True
        self.framer = h1.ResponseFramer(self.request)  # the app's head may be half-made
        close = not self.body_complete or self.body_failed or self.channel.draining
        self.bytes_sent = error_body_size(self.request, status)
        return error_response(self.framer, status, self._fields, close=close)

    def close(self) -> None:
        """Loop thread: the exchange is over; free its body."""
        if self.body is not None:
            self.body.close()


def _check_bytes(pieces: Iterable[object]) -> bytes:
    """Join body pieces that are not all bytes, refusing str (PEP 3333: bytestrings)."""
    joined = bytearray()
    for piece in pieces:
        if isinstance(piece, str) or not isinstance(piece, (bytes, bytearray, memoryview)):
            raise ResponseError(f"response body pieces must be bytes, got {type(piece).__name__}")
        joined += piece
    return bytes(joined)
