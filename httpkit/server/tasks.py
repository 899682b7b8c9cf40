"""Running a coroutine handler as a task on the event loop.

A coroutine handler (:data:`~httpkit.server.contract.AsyncHandler`, such as the ASGI
edge) gets a :class:`TaskExchange`: the same :class:`~httpkit.server.exchange.Exchange`
underneath as a WSGI handler's, seen through awaitable methods.  Everything runs on the
loop thread, so nothing here takes a lock:

* the body is an :class:`~httpkit.server.reqbody.AwaitedBody`, whose pieces the task
  awaits as they arrive (reading pauses while the handler is behind);
* :meth:`TaskExchange.send` writes at once and, when the transport's buffer is full,
  waits for it to drain -- the same flow state (:class:`~httpkit.server.flow.WriteFlow`)
  and the same send timeout as every other response;
* :meth:`TaskExchange.finish` frames the last piece (a whole body in one write, with
  its length, when nothing was sent before) and hands the connection its next request.

As with the other modes, nothing escapes :func:`run_task`: a handler that raises before
the head left gets a 500 (or the body's own error, such as 413), after it the
connection is cut.
"""

from __future__ import annotations

import asyncio
import logging

from httpkit.errors import ResponseError
from httpkit.h1 import Request
from httpkit.server.contract import AsyncHandler, ClientDisconnectedError
from httpkit.server.driver import answer_failure
from httpkit.server.exchange import Channel, Exchange
from httpkit.server.info import ConnectionInfo
from httpkit.server.reqbody import AwaitedBody
from httpkit.server.tunnel import Tunnel

__all__ = ["TaskExchange", "run_task"]

error_log = logging.getLogger("httpkit.error")


class TaskExchange:
    """What a coroutine handler sees of one exchange (the contract's
    :class:`~httpkit.server.contract.AsyncHandlerExchange`)."""

    __slots__ = (
        "_channel",
        "_exchange",
        "_gone",
        "_hung_up",
        "_lost",
        "connection",
        "finished",
        "request",
        "start_response",
        "task",
        "tunnel",
    )

    def __init__(self, exchange: Exchange) -> None:
        self._exchange = exchange
        self._channel: Channel = exchange.channel
        self.request: Request = exchange.request
        self.connection: ConnectionInfo = exchange.connection
        # The exchange's own method: the framer checks the head there, once.
        self.start_response = exchange.start_response
        self.finished = False
        self._lost = False
        self._hung_up = False  # the client sent EOF: it may only have half-closed
        self._gone: asyncio.Future[None] | None = None  # made by the first disconnected()
        self.task: asyncio.Task[None] | None = None  # set by the mode that runs it
        self.tunnel: Tunnel | None = None  # after upgrade()

    @property
    def response_started(self) -> bool:
        return self._exchange.response_started

    @property
    def head_sent(self) -> bool:
        return self._exchange.head_sent

    @property
    def body_done(self) -> bool:
        body = self._exchange.body
        return body is None or (isinstance(body, AwaitedBody) and body.drained)

    @property
    def exchange(self) -> Exchange:
        return self._exchange

    async def receive(self) -> bytes:
        body = self._exchange.body
        if body is None:
            return b""
        assert isinstance(body, AwaitedBody)
        return await body.receive()

    def _check_open(self) -> None:
        if self.finished:
            raise ResponseError("the response was already finished")
        if self._lost or self._channel.closing:
            raise ClientDisconnectedError("client closed the connection during the response")

    async def send(self, piece: bytes) -> None:
        self._check_open()
        if not piece:
            return
        channel = self._channel
        channel.write(self._exchange.frame_piece(piece))
        if channel.writing_paused:
            await channel.drained()
            self._check_open()

    def finish(self, piece: bytes = b"") -> None:
        if self.finished or self._lost or self._channel.closing:
            self._check_open()  # raises the error that says why
        exchange = self._exchange
        data = exchange.frame_whole((piece,))
        self.finished = True
        self._channel.finish(exchange, data)
        if self._gone is not None:
            self._wake()

    def upgrade(self, headers: list[tuple[str, str]]) -> Tunnel:
        self._check_open()
        exchange = self._exchange
        if exchange.body is not None:
            raise ResponseError("a request with a body cannot switch protocols")
        head = exchange.switch_protocols(headers)
        channel = self._channel
        tunnel = self.tunnel = Tunnel(channel, channel.resume_tunnel)
        first = channel.switch_protocols(exchange, head, tunnel)
        if first:
            tunnel.push(first)
        if self._lost:
            tunnel.lose()
        elif self._hung_up:
            tunnel.end()
        return tunnel

    async def disconnected(self) -> None:
        if self.finished or self._lost or self._hung_up:
            return
        if self._gone is None:
            self._gone = asyncio.get_running_loop().create_future()
        await self._gone

    def cancel(self) -> None:
        if self.task is not None:
            self.task.cancel()

    def lose(self) -> None:
        """Loop: the client went away."""
        self._lost = True
        if self.tunnel is not None:
            self.tunnel.lose()
        self._wake()

    def hang_up(self) -> None:
        """Loop: the client closed its side; sends go on (it may still read)."""
        self._hung_up = True
        self._wake()

    def _wake(self) -> None:
        gone = self._gone
        if gone is not None and not gone.done():
            gone.set_result(None)


async def run_task(
    handler: AsyncHandler, view: TaskExchange, running: dict[Exchange, TaskExchange]
) -> None:
    """The whole exchange, from calling the handler to the end of its response; then
    its entry in ``running`` (the mode's) is removed."""
    exchange = view.exchange
    try:
        await handler(view)
        if view.tunnel is not None:
            view.tunnel.close()  # an upgraded connection carries no further request
        elif not view.finished:
            raise ResponseError("the application returned without completing its response")
    except ClientDisconnectedError:
        view.lose()
        if view.tunnel is not None:
            view.tunnel.close()
    except asyncio.CancelledError as error:
        # The server is stopping (or the handler's own timeout): answer, then let the
        # cancellation end the task as asyncio expects.
        if not view.finished:
            answer_failure(exchange, error)
        raise
    except BaseException as error:  # SystemExit from an app must not stop the server
        if view.tunnel is not None:
            error_log.error("error in the application after switching protocols", exc_info=error)
            view.tunnel.close()
        elif not view.finished:
            answer_failure(exchange, error)
        else:
            error_log.error("error in the application after its response", exc_info=error)
    finally:
        exchange.close()
        running.pop(exchange, None)
