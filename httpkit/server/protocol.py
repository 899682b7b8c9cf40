"""One asyncio Protocol per connection: bytes to the h1 parser, requests to the handler.

The connection is a state machine (:mod:`httpkit.server.phase`): it waits for a
request (IDLE, then HEAD from its first byte), reads its body (BODY) while the
execution mode runs the handler, sends the response (RESPONDING), waits for a slow
client to read it before the next pipelined request (FLUSHING), and may discard an
unread body before closing (LINGER), and waits for its transport to finish closing
(CLOSING: over TLS, for the client's close_notify).  Each phase runs one deadline
(:mod:`httpkit.server.phased`, the base class, owns the phase, the deadlines and the
close).

Nothing escapes an asyncio callback: any exception (``BaseException`` included) ends
the exchange with a 500 if nothing was sent yet, or cuts the connection.
"""

from __future__ import annotations

import asyncio
import logging
import math

from httpkit.errors import ProtocolError
from httpkit.h1 import (
    CLOSED,
    CONTINUE,
    NEED_DATA,
    Data,
    EndOfMessage,
    ParserState,
    RefusedHeadError,
    Request,
    ResponseFramer,
    ServerConnection,
)
from httpkit.server.context import ConnectionContext
from httpkit.server.exchange import ByteSink, Exchange
from httpkit.server.headers import empty_response, error_body_size, error_response
from httpkit.server.info import ConnectionInfo
from httpkit.server.phase import Phase
from httpkit.server.phased import PhasedChannel
from httpkit.server.proxyprotocol import Address, parse_proxy_header
from httpkit.server.reqbody import SpoolError

__all__ = ["HTTPConnection"]

error_log = logging.getLogger("httpkit.error")

PIPELINE_LIMIT = 256 * 1024  # unparsed bytes kept while a response is being produced
# RFC 9110 9.3.7: what OPTIONS * answers; the application's own resources say more.
SERVER_METHODS = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"


# The phases as module globals, as in phased.py: a global is quicker than Phase.IDLE.
_IDLE, _HEAD, _BODY = Phase.IDLE, Phase.HEAD, Phase.BODY
_RESPONDING, _FLUSHING = Phase.RESPONDING, Phase.FLUSHING
_LINGER, _CLOSED, _UPGRADED = Phase.LINGER, Phase.CLOSED, Phase.UPGRADED
_CLOSING = Phase.CLOSING


class HTTPConnection(PhasedChannel):
    """The server side of one connection (see the module documentation)."""

    def __init__(self, context: ConnectionContext, proxied: Address | None = None) -> None:
        super().__init__(context)
        self._proxied = proxied  # the client, from a PROXY header read before TLS
        self.mode = context.mode
        self.parser = ServerConnection(context.limits)
        self.info = ConnectionInfo("", 0, "", 0, multithread=context.mode.multithread)
        self.exchange: Exchange | None = None
        self.tunnel: ByteSink | None = None  # after a 101: where the bytes go
        self.side = context.mode.side(self)  # how this connection's handlers reach it
        self.requests_served = 0
        # The server is stopping (set by drain(), or already when the connection is made):
        # responses say Connection: close.  The exchange reads it on every response.
        self.draining = context.draining
        self._eof = False
        self._proxy_preamble: bytes | None = None  # PROXY header bytes, while expected

    def _head_too_slow(self) -> None:
        # RFC 9110 15.5.9: 408 tells the client the server gave up on it.
        self._reject(None, ProtocolError("request head took too long", 408))

    # -- asyncio callbacks -------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        try:
            # uvloop's transports are not asyncio.Transport subclasses, but behave as one.
            self.transport = transport  # type: ignore[assignment]
            self.info = self.ctx.describe(transport)
            self.ctx.opened(self)
            if self._proxied is not None:
                self.info.peer_host, self.info.peer_port = self._proxied
            elif self.info.trusted_proxy and self.settings.proxy_protocol and not self.ctx.tls:
                self._proxy_preamble = b""  # with TLS, the server read it before the handshake
            self._restart_deadline()
        except BaseException as error:
            self._internal_error(error)

    def data_received(self, data: bytes) -> None:
        try:
            self.bytes_in += len(data)
            phase = self.phase
            if phase is _LINGER or phase is _CLOSING:
                return  # the rest of a body nobody will read (see _close_after_response)
            if self._proxy_preamble is not None:
                data = self._read_proxy_header(data)
                if not data:
                    return
            self.parser.receive_data(data)
            if phase is _IDLE or phase is _HEAD:
                self._read_head()
            elif phase is _BODY:
                self._restart_deadline()
                self._pull_body()
            elif phase is _UPGRADED:
                if self.tunnel is not None and self.tunnel.push(data):
                    self._pause_reading()
            elif self.parser.buffered > PIPELINE_LIMIT:
                self._pause_reading()
        except BaseException as error:
            self._internal_error(error)

    def eof_received(self) -> bool:
        try:
            if self.phase is _LINGER or self.phase is _CLOSING:
                self.close()
                return False
            self._eof = True
            self.parser.receive_data(b"")
            if self.phase in (_IDLE, _HEAD):
                self._read_head()
            elif self.phase is _BODY:
                self._pull_body()
            elif self.phase is _RESPONDING:
                self._end_waiting_body()  # an event stream's reader closed: it left
                if self.exchange is not None:
                    self.mode.client_closed(self.exchange)
            elif self.phase is _UPGRADED and self.tunnel is not None:
                self.tunnel.end()
        except BaseException as error:
            self._internal_error(error)
        # Keep the transport open for writing: a client may half-close after its request.
        # TLS has no half-close (RFC 8446 s6.1: close_notify closes both directions), and
        # asyncio's SSL transport logs a warning for every True: let it close.
        return not self.ctx.tls

    def connection_lost(self, exc: Exception | None) -> None:
        try:
            upgraded = self.phase is _UPGRADED  # its 101 is logged already
            self.phase = _CLOSED
            self.deadline = math.inf
            self.ctx.closed(self)
            self.flow.lose()
            exchange = self.exchange
            if exchange is not None:
                if not upgraded:
                    self._log_abandoned(exchange)
                if exchange.body is not None:
                    exchange.body.connection_lost()
                self.mode.connection_lost(exchange)
            self._wake_writer()
            self._end_waiting_body()
        except BaseException as error:
            error_log.critical("error closing a connection", exc_info=error)

    def resume_writing(self) -> None:
        try:
            self.flow.resume()
            self._wake_writer()
            if self.phase is _FLUSHING:
                self.call_soon(self._flushed)
        except BaseException as error:
            self._internal_error(error)

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
            if self.phase is _IDLE:
                self._enter(_HEAD)
            return b""
        client, consumed = parsed
        self._proxy_preamble = None
        if client is not None:
            self.info.peer_host, self.info.peer_port = client
        return buffered[consumed:]

    def drain(self) -> None:
        """The server is stopping.  A connection between requests gets a short grace to
        deliver a request its client may already have sent (answered with ``Connection:
        close``), then closes; a busy one closes after its response, or after those of
        the requests already pipelined behind it (called on every tick of the stop, so
        the last of them is the one that says ``Connection: close``).  One the server
        has closed is cut once its last byte is written: a stop waits for no
        close_notify."""
        self._end_waiting_body()  # an event stream would keep the stop waiting
        if self.phase is _CLOSING:
            if not self.unsent():
                self.abort()
            return
        if self.phase is _UPGRADED and self.tunnel is not None:
            self.tunnel.drain()  # the handler closes its protocol its own way
        phase = self.phase
        if (phase is _RESPONDING or phase is _FLUSHING) and self.parser.buffered:
            return  # requests already on the wire behind this one: answer them first
        self.draining = True
        if self.phase is _IDLE and not self.parser.buffered:
            now = self._now()
            self.deadline = min(self.deadline, now + self.settings.drain_grace)
            if now >= self.deadline:
                self.close()

    def _read_head(self) -> None:
        parser = self.parser
        try:
            event = parser.next_event()
        except RefusedHeadError as error:
            self._reject(error.request, error)  # logged with its request line
            return
        except ProtocolError as error:
            self._reject(None, error)
            return
        if type(event) is Request:
            self._start_exchange(event)
        elif event is NEED_DATA:
            if self.phase is _IDLE and parser.state is ParserState.HEAD:
                self._enter(_HEAD)
        elif event is CLOSED:
            self.close()

    def _start_exchange(self, request: Request) -> None:
        method = request.method
        if method == "CONNECT":
            # A WSGI (or ASGI) server cannot open a tunnel (RFC 9110 9.3.6).
            self._reject(request, ProtocolError("CONNECT is not supported", 501))
            return
        if method == "OPTIONS" and request.target == "*":
            self._answer_options(request)
            return
        connection = self.info
        if self.ctx.proxy is not None:
            try:  # who sent it, as the trusted proxy's headers say
                connection = self.ctx.proxy.apply(request, connection)
            except ProtocolError as error:
                self._reject(request, error)
                return
        mode = self.mode
        has_body = request.chunked or bool(request.content_length)
        body = mode.new_body(self._resume_body) if has_body else None
        exchange = self.exchange = Exchange(
            self,
            request,
            connection,
            fields=self.ctx.fields,
            body=body,
            side=self.side,
            continue_on_read=not mode.continue_at_once,
            timed=self.ctx.access_log is not None,
        )
        if body is None:
            self.parser.next_event()  # a request without a body still ends with EndOfMessage
            self._enter(_RESPONDING)
        else:
            self._enter(_BODY)
        if self.ctx.draining and not self.draining:
            self.drain()  # a pipelined request during a stop: the last one says close
        if not mode.start(exchange):
            self._reject(request, None, 503)
        elif body is not None:
            if request.expect_continue and mode.continue_at_once:
                self.write(CONTINUE)
            self._pull_body()

    def _pull_body(self) -> None:
        """Move every body event the parser has into the exchange's body."""
        exchange = self.exchange
        if exchange is None or exchange.body is None:
            return
        body = exchange.body
        parser = self.parser
        while True:
            try:
                event = parser.next_event()
                if type(event) is Data:
                    if body.push(event.data):
                        self._pause_reading()
                        self._restart_deadline()
                    continue
            except SpoolError as error:
                error_log.error("%s %s: %s", exchange.request.method, _path(exchange), error)
                self._reject(exchange.request, None, 503)
                return
            except ProtocolError as error:
                self._body_failed(exchange, error)
                return
            if type(event) is EndOfMessage:
                body.end()
                self._enter(_RESPONDING)
                self.mode.body_complete(exchange)
            return  # NEED_DATA

    def _body_failed(self, exchange: Exchange, error: ProtocolError) -> None:
        assert exchange.body is not None
        if self._eof:
            # The client closed its side in the middle of the body: it went away, it did
            # not send a bad request.  A reading handler gets ClientDisconnectedError.
            error_log.debug("client closed the connection during the body: %s", error)
            exchange.body.connection_lost()
            self.close()
            return
        exchange.body.end(error)
        self._enter(_RESPONDING)
        if self.mode.body_failed(exchange, error):
            self._reject(exchange.request, error)

    def _resume_body(self) -> None:
        """Worker thread: the body's buffer drained; the loop reads on."""
        self.call_on_loop(self._resume_body_on_loop)

    def _resume_body_on_loop(self) -> None:
        if self.phase is _BODY and self._reading_paused:
            self._resume_reading()
            self._restart_deadline()
            self._pull_body()

    # -- the rest of the channel an exchange writes through (see TransportChannel) -----

    def finish(self, exchange: Exchange, data: bytes) -> None:
        """Loop thread: the last bytes of a response; go on with the next request."""
        transport = self.transport
        if exchange is not self.exchange or transport is None or transport.is_closing():
            return
        try:  # scheduled by the exchange: like asyncio's own callbacks, nothing escapes
            transport.write(data)
            self.bytes_out += len(data)
            if self.ctx.access_log is not None:
                self._log_access(exchange.connection, exchange.request, exchange.status, exchange)
            if exchange.body is not None:
                exchange.close()
            self.exchange = None
            self.requests_served += 1
            if not exchange.framer.keep_alive:
                # A body refused part-way (413) is still arriving: linger, or the reset the
                # close would cause could destroy the answer (RFC 9112 9.6).
                self._close_after_response(
                    body_unread=not exchange.body_complete or exchange.body_failed
                )
            elif self.flow.paused:
                # Memory stays bounded: no next pipelined request until the client has
                # read this response (a list body is written whole).
                self._enter(_FLUSHING)
                self._pause_reading()
            else:
                self._next_request()
        except BaseException as error:
            self._internal_error(error)

    def switch_protocols(self, exchange: Exchange, head: bytes, sink: ByteSink) -> bytes:
        """Loop thread: write the 101 head; the connection's bytes go to ``sink`` now."""
        self.write(head)
        if self.ctx.access_log is not None:
            self._log_access(exchange.connection, exchange.request, 101, exchange)
        self._enter(_UPGRADED)
        self.tunnel = sink
        self.requests_served += 1
        self._resume_reading()  # paused while a pipelined request waited
        return self.parser.switch_protocols()

    def resume_tunnel(self) -> None:
        if self.phase is _UPGRADED:
            self._resume_reading()

    def cut_tunnel(self) -> None:
        if self.phase is _UPGRADED:
            self.abort()

    def _flushed(self) -> None:
        if self.phase is _FLUSHING and not self.flow.paused:
            self._next_request()

    def _end_exchange(self, exchange: Exchange) -> None:
        exchange.close()
        self.exchange = None
        self.requests_served += 1

    def _next_request(self) -> None:
        self._enter(_IDLE)
        if self._reading_paused:
            self._resume_reading()
        if self._eof or self.parser.buffered:
            self._read_head()  # a pipelined request, or the EOF that came meanwhile
        elif self.ctx.draining:
            # The response promised keep-alive before the stop began: the client may be
            # sending its next request already.  It gets the drain's grace to arrive.
            self.drain()

    # -- answers the server gives itself -----------------------------------------------

    def _answer_options(self, request: Request) -> None:
        """``OPTIONS *``: the server's own capabilities (RFC 9110 9.3.7)."""
        framer = ResponseFramer(request)
        allow = [("Allow", SERVER_METHODS)]
        # A body nobody reads (and what may follow it) is discarded by closing: say so.
        has_body = request.chunked or bool(request.content_length)
        close = has_body or self.ctx.draining
        data = empty_response(framer, 200, self.ctx.fields, allow, close=close)
        self._enter(_RESPONDING)
        self.write(data)
        self._log_access(self.info, request, 200, None)
        self.requests_served += 1
        if not framer.keep_alive:
            self._close_after_response(body_unread=has_body)
        else:
            self.parser.next_event()  # its EndOfMessage
            self._next_request()

    def _reject(
        self, request: Request | None, error: ProtocolError | None, status: int = 0
    ) -> None:
        """Answer a request the handler never saw, or a body refused (400, 413, 503...),
        and close."""
        extra = None
        if error is not None:
            status = error.status
            error_log.debug("rejected request: %s", error)
        if status == 503:
            extra = [("Retry-After", str(self.settings.retry_after))]
        data = error_response(ResponseFramer(request), status, self.ctx.fields, extra=extra)
        self._log_access(self.info, request, status, None, error_body_size(request, status))
        self.answered_itself(status)
        exchange = self.exchange
        if exchange is not None:
            self._end_exchange(exchange)
        else:
            self.requests_served += 1  # a request the parser refused is answered too
        self.write(data)
        self._close_after_response(body_unread=True)


def _path(exchange: Exchange) -> str:
    return exchange.request.target.partition("?")[0]
