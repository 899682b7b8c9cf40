"""One asyncio Protocol per connection: bytes to the h1 parser, requests to the handler.

A connection is in one of three phases:

* **waiting for a request** (no exchange): every byte goes to the parser until it gives
  a :class:`~httpkit.h1.Request`.  A keep-alive deadline runs while no byte has come,
  then a header deadline from the request's first byte (slow-trickle clients are cut);
* **running the handler**: the body keeps flowing into the exchange (the socket pauses
  when the handler does not keep up), pipelined requests wait in the parser;
* **finishing**: the last bytes of the response are written; then the next pipelined
  request (if any) is parsed, so responses go out in request order.

Timeouts are not timers: the server sweeps its connections a few times a second and
calls :meth:`HTTPConnection.check_deadline`, so a request costs no timer at all.
"""

from __future__ import annotations

import asyncio
import logging
import math
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from httpkit.errors import ProtocolError
from httpkit.h1 import (
    CLOSED,
    CONTINUE,
    NEED_DATA,
    Data,
    EndOfMessage,
    ParserState,
    Request,
    ResponseFramer,
    ServerConnection,
)
from httpkit.server.app import ClientDisconnectedError, ConnectionInfo
from httpkit.server.driver import run_inline, run_threaded
from httpkit.server.exchange import BODY_HIGH_WATER, WAIT_STEP, Exchange
from httpkit.server.headers import error_response
from httpkit.server.proxyprotocol import parse_proxy_header

if TYPE_CHECKING:
    from httpkit.server.core import Server

__all__ = ["HTTPConnection"]

error_log = logging.getLogger("httpkit.error")

WRITE_HIGH_WATER = 256 * 1024  # bytes a worker may hand to the loop before waiting
PIPELINE_LIMIT = 256 * 1024  # unparsed bytes kept while a response is being produced
LINGER_SECONDS = 2.0  # how long an unread request body is drained before closing
DRAIN_FIRST_REQUEST = 1.0  # while stopping, seconds a new connection has to send a request


class HTTPConnection(asyncio.Protocol):
    """The server side of one connection (see the module documentation)."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.settings = server.settings
        self.loop = server.loop
        self.parser = ServerConnection(server.limits)
        self.transport: asyncio.Transport | None = None
        self.info = ConnectionInfo("", 0, "", 0, multithread=server.settings.threads > 0)
        self.exchange: Exchange | None = None
        self.lost = False
        self._eof = False
        self._tls = server.ssl_context is not None
        self._lingering = False
        self.reading_paused = False
        self.writing_paused = False
        self.deadline = math.inf  # loop time at which the connection is cut
        self._deadline_kind = "idle"
        self._resume_writing: Callable[[], None] | None = None
        # Worker-thread writes: bytes handed over but not yet written, and the flow state.
        self._flow = threading.Condition(threading.Lock())
        self._in_flight = 0
        self._write_paused_at = math.inf
        self._proxy_preamble: bytes | None = None  # PROXY header bytes, while expected
        self.requests_served = 0

    # -- asyncio callbacks -------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, but behave as one.
        self.transport = transport  # type: ignore[assignment]
        self.info = self.server.connection_info(transport)
        self.server.connection_opened(self)
        if self.info.trusted_proxy and self.settings.proxy_protocol:
            self._proxy_preamble = b""
        self._set_deadline("idle", self.settings.keepalive_timeout)

    def data_received(self, data: bytes) -> None:
        if self._lingering:
            return  # the rest of a body nobody will read (see _close_after_response)
        if self._proxy_preamble is not None:
            data = self._read_proxy_header(data)
            if not data:
                return
        self.parser.receive_data(data)
        if self.exchange is None:
            self._read_head()
        elif not self.exchange.body_complete:
            self._set_deadline("body", self.settings.body_timeout)
            self._pull_body(self.exchange)
        elif self.parser.buffered > PIPELINE_LIMIT:
            self._pause_reading()

    def eof_received(self) -> bool:
        if self._lingering:
            self.close()
            return False
        self._eof = True
        self.parser.receive_data(b"")
        if self.exchange is None:
            self._read_head()
        elif not self.exchange.body_complete:
            self._pull_body(self.exchange)
        # Keep the transport open for writing: a client may half-close after its request.
        # TLS has no half-close (RFC 8446 s6.1: close_notify closes both directions), and
        # asyncio's SSL transport logs a warning for every True: let it close.
        return not self._tls

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        self.deadline = math.inf
        self.server.connection_closed(self)
        with self._flow:
            self._flow.notify_all()
        exchange = self.exchange
        if exchange is not None:
            exchange.wake_readers()
            if not exchange.threaded:
                exchange.close_body()  # a worker may still be reading a threaded one
            if self._resume_writing is not None:  # an inline body waiting to be resumed
                resume, self._resume_writing = self._resume_writing, None
                resume()

    def pause_writing(self) -> None:
        with self._flow:
            self.writing_paused = True
            self._write_paused_at = self.loop.time()

    def resume_writing(self) -> None:
        with self._flow:
            self.writing_paused = False
            self._write_paused_at = math.inf
            self._flow.notify_all()
        if self._resume_writing is not None:
            resume, self._resume_writing = self._resume_writing, None
            resume()

    # -- reading requests --------------------------------------------------------------

    def _read_proxy_header(self, data: bytes) -> bytes:
        """The bytes after the PROXY protocol header; b"" until it is complete."""
        buffered = self._proxy_preamble + data if self._proxy_preamble else data
        try:
            parsed = parse_proxy_header(buffered)
        except ProtocolError as error:
            self._proxy_preamble = None
            self._reject(None, error)
            return b""
        if parsed is None:
            self._proxy_preamble = buffered
            self._set_deadline("head", self.settings.header_timeout)
            return b""
        client, consumed = parsed
        self._proxy_preamble = None
        if client is not None:
            self.info.peer_host, self.info.peer_port = client
        return buffered[consumed:]

    def drain(self) -> None:
        """The server is stopping: close now if between requests on a kept-alive
        connection; a new connection that has not sent its request yet gets a second
        (its client connected to send one, maybe just before the listener closed)."""
        if self.exchange is not None or self._lingering or self.parser.buffered:
            return
        if self.requests_served:
            self.close()
        else:
            self.deadline = min(self.deadline, self.loop.time() + DRAIN_FIRST_REQUEST)

    def _read_head(self) -> None:
        parser = self.parser
        try:
            event = parser.next_event()
        except ProtocolError as error:
            self._reject(None, error)
            return
        if type(event) is Request:
            self._start_exchange(event)
        elif event is NEED_DATA:
            if self._deadline_kind == "idle" and parser.state is ParserState.HEAD:
                self._set_deadline("head", self.settings.header_timeout)
        elif event is CLOSED:
            self.close()

    def _start_exchange(self, request: Request) -> None:
        threaded = self.server.pool is not None
        exchange = self.exchange = Exchange(self, request, threaded)
        if self.server.proxy is not None:
            try:
                exchange.connection = self.server.proxy.apply(request, self.info)
            except ProtocolError as error:
                self._reject(request, error)
                return
        if exchange.body_complete:
            # A request without a body still ends with an EndOfMessage event.
            self.parser.next_event()
        if threaded and not self.server.submit(run_threaded, exchange):
            self._reject(request, None, 503)
        elif exchange.body_complete:
            self.deadline = math.inf
            if not threaded:
                run_inline(exchange)
        else:
            self._set_deadline("body", self.settings.body_timeout)
            if request.expect_continue and not threaded:
                # Inline, the body is read before the application runs (RFC 9110 10.1.1).
                self.write(CONTINUE)
            self._pull_body(exchange)

    def _pull_body(self, exchange: Exchange) -> None:
        """Move every body event the parser has into the exchange."""
        parser = self.parser
        while True:
            try:
                event = parser.next_event()
            except ProtocolError as error:
                self._body_failed(exchange, error)
                return
            if type(event) is Data:
                exchange.push_body(event.data)
            elif type(event) is EndOfMessage:
                exchange.end_body()
                break
            else:  # NEED_DATA
                if exchange.threaded and exchange.body_buffered > BODY_HIGH_WATER:
                    self._pause_reading()
                return
        self.deadline = math.inf
        if not exchange.threaded:
            run_inline(exchange)

    def _body_failed(self, exchange: Exchange, error: ProtocolError) -> None:
        exchange.end_body(error)
        self.deadline = math.inf
        if not exchange.threaded:
            self._reject(exchange.request, error)
        # Threaded: the handler sees the error on its next read; the driver answers it.

    def resume_body_reading(self) -> None:
        """Loop thread, asked by a worker that drained the body buffer."""
        if self.reading_paused and self.exchange is not None and not self.lost:
            self.reading_paused = False
            assert self.transport is not None
            self.transport.resume_reading()
            self._set_deadline("body", self.settings.body_timeout)
            self._pull_body(self.exchange)

    def _pause_reading(self) -> None:
        if not self.reading_paused and self.transport is not None:
            self.reading_paused = True
            if self._deadline_kind == "body":
                self.deadline = math.inf  # the handler is slow, not the client
            self.transport.pause_reading()

    # -- writing responses -------------------------------------------------------------

    @property
    def closing(self) -> bool:
        """Lost, or about to be: the transport drops writes before connection_lost runs."""
        return self.lost or self.transport is None or self.transport.is_closing()

    def write(self, data: bytes) -> None:
        """Loop thread: write bytes now (asyncio buffers them; see pause_writing)."""
        transport = self.transport
        if transport is not None and not self.lost and not transport.is_closing():
            transport.write(data)

    def write_interim(self, data: bytes) -> None:
        """Loop thread: a 100 Continue, unless a final response has started meanwhile."""
        if self.exchange is not None and not self.exchange.head_sent:
            self.write(data)

    def call_on_loop(self, callback: Callable[..., Any], *args: Any) -> None:
        """Any thread: run callback(*args) on the loop thread, after earlier calls."""
        self.loop.call_soon_threadsafe(callback, *args)

    def write_from_thread(self, data: bytes) -> None:
        """Worker thread: hand bytes to the loop, waiting while the client reads slowly."""
        with self._flow:
            while (self.writing_paused or self._in_flight > WRITE_HIGH_WATER) and not self.lost:
                self._flow.wait(WAIT_STEP)
            if self.lost:
                raise ClientDisconnectedError("client closed the connection during the response")
            self._in_flight += len(data)
        self.loop.call_soon_threadsafe(self._write_handed_over, data)

    def _write_handed_over(self, data: bytes) -> None:
        self.write(data)
        with self._flow:
            self._in_flight -= len(data)
            self._flow.notify_all()

    def when_writable(self, resume: Callable[[], None]) -> None:
        """Loop thread: call ``resume`` once the transport's buffer has drained."""
        if self.writing_paused and not self.lost:
            self._resume_writing = resume
        else:
            resume()

    def finish(self, exchange: Exchange, data: bytes) -> None:
        """Loop thread: the last bytes of a response; go on with the next request."""
        if exchange.threaded:
            self._finish_now(exchange, data)
        else:
            # Inline, the response was made inside data_received.  Writing it from the
            # next callback instead lets the loop read every ready socket first and then
            # send all the responses: measured 25k -> 35k requests/s with 50 clients.
            self.loop.call_soon(self._finish_now, exchange, data)

    def _finish_now(self, exchange: Exchange, data: bytes) -> None:
        if self.lost or exchange is not self.exchange:
            return
        self.write(data)
        if self.server.access_log is not None:
            self.server.access_log(
                exchange.connection,
                exchange.request,
                exchange.status,
                exchange.bytes_sent,
                time.perf_counter() - exchange.started,
            )
        exchange.close_body()
        self.exchange = None
        self.requests_served += 1
        if not exchange.keep_alive or self.server.draining:
            self._close_after_response(body_unread=not exchange.body_complete)
            return
        self._set_deadline("idle", self.settings.keepalive_timeout)
        if self.reading_paused:
            self.reading_paused = False
            assert self.transport is not None
            self.transport.resume_reading()
        if self.parser.buffered or self._eof:
            self._read_head()  # a pipelined request, or the EOF that came meanwhile

    def abort(self) -> None:
        """Cut the connection so that the client sees a truncated response."""
        if self.transport is not None and not self.lost:
            self.transport.abort()

    def close(self) -> None:
        """Close after the buffered bytes are written."""
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()

    def _reject(
        self, request: Request | None, error: ProtocolError | None, status: int = 0
    ) -> None:
        """Answer a request the handler never saw (bad request, 503) and close."""
        extra = None
        if error is not None:
            status = error.status
            error_log.debug("rejected request: %s", error)
        elif status == 503:
            extra = [("Retry-After", str(self.settings.retry_after))]
        framer = ResponseFramer(request)
        data = error_response(framer, status, self.settings.server_header, extra=extra)
        if self.server.access_log is not None:
            self.server.access_log(self.info, request, status, 0, 0.0)
        if self.exchange is not None:
            self.exchange.status = status
            self.exchange.close_body()
            self.exchange = None
        self.write(data)
        self._close_after_response(body_unread=True)

    def _close_after_response(self, body_unread: bool) -> None:
        """Close; if the client may still be sending a body, linger first.

        Closing a socket with unread bytes makes the kernel send RST, which can destroy
        the response before the client reads it (RFC 9112 9.6).  So the server sends
        FIN, discards what still comes for up to LINGER_SECONDS, then closes.
        """
        transport = self.transport
        if not body_unread or transport is None or not transport.can_write_eof():
            self.close()
            return
        self._lingering = True
        transport.write_eof()
        self._set_deadline("linger", LINGER_SECONDS)
        if self.reading_paused:
            self.reading_paused = False
            transport.resume_reading()

    # -- timeouts ----------------------------------------------------------------------

    def _set_deadline(self, kind: str, seconds: float) -> None:
        self._deadline_kind = kind
        self.deadline = self.loop.time() + seconds

    def check_deadline(self, now: float) -> None:
        """Called by the server's sweep: cut the connection if a deadline has passed."""
        if now >= self.deadline:
            self.deadline = math.inf
            if self._deadline_kind == "head":
                # RFC 9110 15.5.9: 408 tells the client the server gave up on it.
                self._reject(None, ProtocolError("request head took too long", 408))
            elif self._deadline_kind in ("idle", "linger"):
                self.close()
            else:
                error_log.info("request body stalled; connection cut")
                self.abort()
        elif now - self._write_paused_at >= self.settings.send_timeout:
            error_log.info("client stopped reading the response; connection cut")
            self.abort()
