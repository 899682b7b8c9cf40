"""The I/O side of a connection: its transport and the loop, as an exchange needs them.

:class:`TransportChannel` is the base of :class:`~httpkit.server.protocol.HTTPConnection`:
it owns the transport (writes, pausing and resuming reading), the write back-pressure
(:class:`~httpkit.server.flow.WriteFlow`), the hand-over of work to the loop thread and
``sendfile``.  The request state machine -- phases, deadlines, what a byte means -- is
the subclass's; it tells this class only what every callback must do on an error.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Callable, Coroutine
from concurrent.futures import Future
from typing import IO, Any

from httpkit.h1 import CONTINUE, Request
from httpkit.server import kernelsend
from httpkit.server.context import ConnectionContext
from httpkit.server.exchange import Exchange
from httpkit.server.flow import WriteFlow
from httpkit.server.info import ConnectionInfo
from httpkit.server.phase import Phase

__all__ = ["TransportChannel"]

error_log = logging.getLogger("httpkit.error")

_CLOSED = Phase.CLOSED  # read on every write: a global is quicker than Phase.CLOSED
CLIENT_CLOSED_REQUEST = 499  # logged, never sent: the client left before the response


class TransportChannel(asyncio.Protocol):
    """A connection's transport, write flow and loop (see the module documentation)."""

    phase: Phase  # the subclass's state; CLOSED once the connection is lost
    exchange: Exchange | None  # the request being answered, if any

    def __init__(self, context: ConnectionContext) -> None:
        self.ctx = context
        self.transport: asyncio.Transport | None = None
        self.flow = WriteFlow()
        self._reading_paused = False  # the transport's reading (loop thread only)
        # Everyone waiting for the transport to drain: an inline body, and with tasks as
        # many senders as run at once (a WebSocket's sender task and its pong replies).
        self._resume_writing: list[Callable[[], None]] = []
        # Statistics (loop thread; the server adds them up when the connection closes).
        self.bytes_in = 0
        self.bytes_out = 0
        # A body waiting for events (pause_body) ends when the client leaves: see when_gone.
        # The exchange is kept with it: a registration that outlived its exchange is void.
        self._on_gone: tuple[Exchange | None, Callable[[], None]] | None = None
        self._gone = False

    def _internal_error(self, error: BaseException) -> None:
        """What a scheduled callback that failed must do (the subclass decides)."""
        raise NotImplementedError

    def finish(self, exchange: Exchange, data: bytes) -> None:
        """The last bytes of a response, and what follows (the subclass decides)."""
        raise NotImplementedError

    def pause_writing(self) -> None:
        self.flow.pause(self.ctx.now())

    def _wake_writer(self) -> None:
        """Let every writer waiting for the transport go on, each from its own callback:
        resuming one inside the transport's callback can re-enter the transport."""
        waiting = self._resume_writing
        if waiting:
            self._resume_writing = []
            for resume in waiting:
                self.call_soon(resume)

    def _pause_reading(self) -> None:
        if not self._reading_paused and self.transport is not None:
            self._reading_paused = True
            self.transport.pause_reading()

    def _resume_reading(self) -> None:
        if self._reading_paused and self.transport is not None and not self.closing:
            self._reading_paused = False
            self.transport.resume_reading()

    @property
    def closing(self) -> bool:
        """Lost, or about to be: the transport drops writes before connection_lost runs."""
        return self.phase is _CLOSED or self.transport is None or self.transport.is_closing()

    def unsent(self) -> int:
        """Bytes written that the client does not have yet: in the transport's buffer, or
        in the socket's, not acknowledged (where the kernel says; see kernelsend)."""
        transport = self.transport
        if transport is None:
            return 0
        try:
            buffered = transport.get_write_buffer_size()
        except AttributeError:  # Python 3.10's SSL transport, once its socket's is gone
            return 0
        return buffered or kernelsend.unacknowledged(transport)

    @property
    def writing_paused(self) -> bool:
        return self.flow.paused

    def write(self, data: bytes) -> None:
        """Loop thread: write bytes now (asyncio buffers them; see pause_writing)."""
        if not self.closing:
            self.transport.write(data)  # type: ignore[union-attr]
            self.bytes_out += len(data)

    def write_from_thread(self, data: bytes) -> None:
        """Worker thread: hand bytes to the loop, waiting while the client reads slowly."""
        # A partial of the loop's own method: no Python frame between the worker and the
        # loop per piece (call_on_loop's guard is in _write_handed_over itself).
        deliver = functools.partial(
            self.ctx.loop.call_soon_threadsafe, self._write_handed_over, data
        )
        self.flow.hand_over(len(data), deliver)

    def _write_handed_over(self, data: bytes) -> None:
        try:
            self.write(data)
        except BaseException as error:  # a callback this connection scheduled: see _guarded
            self._internal_error(error)
        finally:
            self.flow.written(len(data))

    def call_soon(self, callback: Callable[..., Any], *args: Any) -> None:
        """Loop thread: run ``callback(*args)`` from the next loop iteration."""
        self.ctx.loop.call_soon(self._guarded, callback, args)

    def call_on_loop(self, callback: Callable[..., Any], *args: Any) -> None:
        """Any thread: run ``callback(*args)`` on the loop thread, after earlier calls."""
        self.ctx.loop.call_soon_threadsafe(self._guarded, callback, args)

    def _guarded(self, callback: Callable[..., Any], args: tuple[Any, ...]) -> None:
        """A callback this connection scheduled: like asyncio's, nothing may escape it."""
        try:
            callback(*args)
        except BaseException as error:
            self._internal_error(error)

    def run_on_loop(self, coroutine: Coroutine[Any, Any, None]) -> Future[None]:
        return asyncio.run_coroutine_threadsafe(coroutine, self.ctx.loop)

    def when_writable(self, resume: Callable[[], None]) -> None:
        """Loop thread: call ``resume`` from a later callback once writes may go on."""
        if self.flow.paused and not self.closing:
            self._resume_writing.append(resume)
        else:
            self.call_soon(resume)

    def call_later(self, delay: float, callback: Callable[[], None]) -> asyncio.TimerHandle:
        """Loop thread: run ``callback()`` in ``delay`` seconds (guarded), unless cancelled."""
        return self.ctx.loop.call_later(delay, self._guarded, callback, ())

    def when_gone(self, callback: Callable[[], None]) -> None:
        """Loop thread: call ``callback`` from a later callback once a body waiting for
        events must end -- at once if it already must.  One waiter at a time."""
        if self._gone or self.closing:
            self.close()
            self.call_soon(callback)
        else:
            self._on_gone = (self.exchange, callback)

    def _end_waiting_body(self) -> None:
        """The client left, closed its side, or the server stops: a waiting body (an
        event stream nobody will read, or that would keep the stop waiting) ends, and
        its connection closes."""
        self._gone = True
        waiting, self._on_gone = self._on_gone, None
        if waiting is not None and waiting[0] is self.exchange:
            self.close()
            self.call_soon(waiting[1])

    def can_sendfile(self) -> bool:
        transport = self.transport
        if transport is None or self.ctx.tls:
            return False
        # asyncio's loop has loop.sendfile; on others (uvloop) kernelsend uses the socket.
        return (
            isinstance(self.ctx.loop, asyncio.BaseEventLoop)
            or kernelsend.socket_fileno(transport) is not None
        )

    async def sendfile(self, file: IO[bytes], offset: int, count: int) -> None:
        if count and not self.closing:
            assert self.transport is not None
            if isinstance(self.ctx.loop, asyncio.BaseEventLoop):
                sent = await self.ctx.loop.sendfile(self.transport, file, offset, count)
            else:
                sent = await kernelsend.sendfile_to_transport(
                    self.transport,
                    file,
                    offset,
                    count,
                    writable=self.drained,
                    closing=lambda: self.closing,
                )
            self.bytes_out += sent

    async def drained(self) -> None:
        """Loop thread: until the transport's buffer has drained (or the connection is
        gone).  Any number of coroutines may wait at once; all go on together."""
        waiter = self.ctx.loop.create_future()
        self.when_writable(lambda: None if waiter.done() else waiter.set_result(None))
        await waiter

    def abort(self) -> None:
        """Cut the connection so that the client sees a truncated response."""
        if self.transport is not None and self.phase is not _CLOSED:
            self.transport.abort()

    def close(self) -> None:
        """Close after the buffered bytes are written."""
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()

    def answered_itself(self, status: int) -> None:
        """Loop thread: the server (not the handler) answered with ``status``."""
        self.ctx.tally.answered(status)

    def send_continue(self, exchange: Exchange) -> None:
        """Loop thread: a 100 Continue, unless a final response has started meanwhile."""
        if exchange is self.exchange and not exchange.head_sent:
            self.write(CONTINUE)

    def cut(self, exchange: Exchange) -> None:
        if exchange is self.exchange:
            self.abort()

    def finish_soon(self, exchange: Exchange, data: bytes) -> None:
        """Loop thread: :meth:`finish` from the next loop iteration."""
        self.ctx.loop.call_soon(self.finish, exchange, data)  # finish guards itself

    def _log_abandoned(self, exchange: Exchange) -> None:
        """A response that never finished is logged as Apache does, with the status that
        went out and the bytes sent so far; a client gone before the response started is
        499, nginx's "client closed request"."""
        if self.ctx.access_log is not None and exchange.request is not None:
            status = exchange.status if exchange.head_sent else CLIENT_CLOSED_REQUEST
            self._log_access(exchange.connection, exchange.request, status, exchange)

    def _log_access(
        self,
        info: ConnectionInfo,
        request: Request | None,
        status: int,
        ex: Exchange | None,
        sent: int = 0,
    ) -> None:
        access_log = self.ctx.access_log
        if access_log is not None:
            sent, took = (ex.bytes_sent, time.perf_counter() - ex.started) if ex else (sent, 0.0)
            access_log(info, request, status, sent, took)
