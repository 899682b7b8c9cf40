"""The ASGI edge: runs an ASGI 3 application as the server's coroutine handler.

:class:`ASGIHandler` is an :data:`~httpkit.server.contract.AsyncHandler`: the server
runs it as a task on the event loop for each request, with an
:class:`~httpkit.server.contract.AsyncHandlerExchange`.  Its ``startup()`` and
``shutdown()`` run the application's ``lifespan`` scope, once per server (per worker
process).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from httpkit.asgi.handshake import handshake_error, is_websocket_request
from httpkit.asgi.http import HTTPCycle, StartClock, reason_phrase
from httpkit.asgi.lifespan import Lifespan
from httpkit.asgi.scope import http_scope, request_headers, request_path, websocket_scope
from httpkit.asgi.types import ASGIApp
from httpkit.errors import ResponseError
from httpkit.server.contract import AsyncHandlerExchange
from httpkit.urlprefix import OUTSIDE_PREFIX_FIELDS, outside_prefix_body, under_prefix

__all__ = ["ASGIHandler"]

error_log = logging.getLogger("httpkit.error")

SHUTDOWN_TIMEOUT = 10.0  # seconds the application's lifespan shutdown may take


class ASGIHandler:
    """The server handler for one ASGI 3 application.

    ``root_path`` is the scope's ``root_path`` (the ``url_prefix`` setting): a request
    or WebSocket outside it is answered ``404`` without calling the application;
    ``app_timeout`` bounds the time to ``http.response.start``, counted again from each
    piece of body ``receive()`` gives (waiting for the client's upload does not count;
    0: no bound);
    ``lifespan`` False skips the lifespan scope.
    """

    def __init__(
        self,
        app: ASGIApp,
        root_path: str = "",
        *,
        app_timeout: float = 60.0,
        lifespan: bool = True,
        ws_max_message_size: int = 16 * 1024 * 1024,
        ws_per_message_deflate: bool = True,
        ws_ping_interval: float = 20.0,
        ws_ping_timeout: float = 20.0,
    ) -> None:
        if not callable(app):
            raise TypeError(f"an ASGI application must be callable, not {type(app).__name__}")
        self.app = app
        self.root_path = root_path
        self.app_timeout = app_timeout
        self.state: dict[str, Any] | None = None  # the lifespan's state, when supported
        self._lifespan = Lifespan(app, {}) if lifespan else None
        self._clock: StartClock | None = None
        self.ws_max_message_size = ws_max_message_size
        self.ws_per_message_deflate = ws_per_message_deflate
        self.ws_ping_interval = ws_ping_interval
        self.ws_ping_timeout = ws_ping_timeout

    async def startup(self) -> None:
        lifespan = self._lifespan
        if lifespan is not None:
            await lifespan.startup()
            if lifespan.supported:
                self.state = lifespan.state

    async def shutdown(self) -> None:
        if self._clock is not None:
            self._clock.stop()
            self._clock = None
        if self._lifespan is not None:
            await self._lifespan.shutdown(SHUTDOWN_TIMEOUT)

    async def __call__(self, exchange: AsyncHandlerExchange) -> None:
        prefix = self.root_path
        if prefix and not under_prefix(request_path(exchange.request), prefix):
            exchange.start_response(404, "Not Found", OUTSIDE_PREFIX_FIELDS)
            exchange.finish(outside_prefix_body(prefix))
            return
        headers, upgrade = request_headers(exchange.request)
        if upgrade and is_websocket_request(exchange.request):
            await self._websocket(exchange, headers)
            return
        clock = self._clock
        if clock is None and self.app_timeout:
            clock = self._start_clock()
        cycle = HTTPCycle(exchange, clock)
        scope = http_scope(exchange, self.root_path, self.state, headers)
        try:
            await self.app(scope, cycle.receive, cycle.send)
        except asyncio.CancelledError:
            if not cycle.timed_out:
                raise
            raise ResponseError(
                f"the application did not start its response within {self.app_timeout:g} s "
                "(app_timeout)"
            ) from None
        finally:
            if cycle.timing:
                cycle.end()

    def _start_clock(self) -> StartClock | None:
        """The start clock (app_timeout), started by the first request; None if off."""
        if self._clock is None and self.app_timeout:
            self._clock = StartClock(self.app_timeout, asyncio.get_running_loop())
        return self._clock

    async def _websocket(
        self, exchange: AsyncHandlerExchange, headers: list[tuple[bytes, bytes]]
    ) -> None:
        refused = handshake_error(exchange.request)
        if refused is not None:
            status, fields, message = refused
            exchange.start_response(status, reason_phrase(status), fields)
            exchange.finish(message.encode() + b"\n")
            return
        try:
            # Imported on the first WebSocket: plain HTTP needs no wsproto.
            from httpkit.asgi.websocket import WebSocketCycle  # noqa: PLC0415
        except ImportError:
            error_log.error("WebSocket refused: wsproto is not installed (httpkit[asgi])")
            exchange.start_response(501, "Not Implemented", [])
            exchange.finish(b"WebSockets are not available on this server\n")
            return
        cycle = WebSocketCycle(
            exchange,
            self.ws_max_message_size,
            self.ws_per_message_deflate,
            self.ws_ping_interval,
            self.ws_ping_timeout,
        )
        scope = websocket_scope(exchange, self.root_path, self.state, headers)
        clock = self._start_clock()
        if clock is not None:
            cycle.clock, cycle.tick = clock, clock.tick
            clock.waiting.add(cycle)
        try:
            await self.app(scope, cycle.receive, cycle.send)
        except asyncio.CancelledError:
            if not cycle.timed_out:
                raise
            raise ResponseError(
                f"the application did not accept the WebSocket within {self.app_timeout:g} s "
                "(app_timeout)"
            ) from None
        except BaseException:
            await cycle.fail()
            raise
        finally:
            cycle.stop_clock()
        await cycle.finish()
