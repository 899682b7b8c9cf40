"""``receive`` and ``send`` of one HTTP request (ASGI HTTP spec, "Request"/"Response").

The application's messages become calls on the server's
:class:`~httpkit.server.contract.AsyncHandlerExchange`, which checks everything before
a byte goes out: a bad status, a header name that is not a token or a value with CR or
LF raises :class:`~httpkit.errors.ResponseError` from ``send()``, and the client gets a
500 -- never a split response.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from http import HTTPStatus
from typing import Protocol

from httpkit.asgi.types import Message
from httpkit.errors import ResponseError
from httpkit.server.contract import AsyncHandlerExchange, ClientDisconnectedError

__all__ = ["HTTPCycle", "StartClock", "Timed", "reason_phrase"]

TICKS = 4  # the start clock ticks this many times per app_timeout

_REASONS: dict[int, str] = {status.value: status.phrase for status in HTTPStatus}


def reason_phrase(status: object) -> str:
    """The reason phrase of ``status`` ("" for a code without one; the framer checks the
    code itself)."""
    return _REASONS.get(status, "") if type(status) is int else ""


def _str_headers(raw: object) -> list[tuple[str, str]]:
    """The application's ``headers`` (an iterable of [name, value] bytes pairs) as the
    framer's strs, latin-1 decoded so that every byte is checked."""
    if (type(raw) is not list and type(raw) is not tuple) and (
        isinstance(raw, (str, bytes)) or not isinstance(raw, Iterable)
    ):
        raise ResponseError(f"response headers must be an iterable of pairs, not {raw!r}")
    headers: list[tuple[str, str]] = []
    append = headers.append
    try:
        for name, value in raw:
            if type(name) is not bytes or type(value) is not bytes:
                raise ResponseError(f"header names and values must be bytes: {(name, value)!r}")
            append((name.decode("latin-1"), value.decode("latin-1")))
    except (TypeError, ValueError):
        raise ResponseError(f"response headers must be [name, value] pairs: {raw!r}") from None
    return headers


class Timed(Protocol):
    """What the start clock bounds: an HTTP request, or a WebSocket until its accept."""

    tick: int  # the clock's tick when it began waiting

    def time_out(self) -> None:
        """Too long: cancel the application."""


class StartClock:
    """Bounds the time from a request (or from the last piece of its body the
    application received) to its ``http.response.start`` (``app_timeout``),
    or a WebSocket's to its ``websocket.accept`` (or close).

    Not a timer per request: one timer ticks :data:`TICKS` times per timeout, and a
    request still waiting for its start after that many ticks has its task cancelled
    (so the bound holds to within a quarter of the timeout).  A request costs a set
    insertion and removal, which :class:`HTTPCycle` makes in :attr:`waiting`.
    """

    def __init__(self, timeout: float, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.tick = 0
        self.waiting: set[Timed] = set()
        self._step = timeout / TICKS
        self._timer: asyncio.TimerHandle | None = loop.call_later(self._step, self._tick)

    def _tick(self) -> None:
        self.tick = tick = self.tick + 1
        for cycle in [cycle for cycle in self.waiting if tick - cycle.tick > TICKS]:
            self.waiting.discard(cycle)
            cycle.time_out()
        self._timer = self.loop.call_later(self._step, self._tick)

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None


class HTTPCycle:
    """The ``receive`` and ``send`` callables of one request."""

    __slots__ = (
        "_clock",
        "_exchange",
        "_request_done",
        "_started",
        "tick",
        "timed_out",
    )

    def __init__(self, exchange: AsyncHandlerExchange, clock: StartClock | None) -> None:
        self._exchange = exchange
        self._request_done = False  # the last http.request message was given
        self._started = False
        self._clock = clock
        self.timed_out = False
        if clock is not None:
            self._wait_for_start(clock)

    def _wait_for_start(self, clock: StartClock) -> None:
        self.tick = clock.tick  # the request waits for its start from this tick
        clock.waiting.add(self)

    @property
    def timing(self) -> bool:
        """The start clock still runs for this request."""
        return self._clock is not None

    def end(self) -> None:
        """The application returned (or raised): stop its start clock."""
        clock = self._clock
        if clock is not None:
            self._clock = None
            clock.waiting.discard(self)

    def time_out(self) -> None:
        """The start clock ran out: cancel the application (answered with 500)."""
        if not self._started:
            self.timed_out = True
            self._exchange.cancel()

    async def receive(self) -> Message:
        exchange = self._exchange
        if not self._request_done:
            # Waiting for the client's body is not the application's time: a slow upload
            # is bounded by body_timeout, and app_timeout starts again from each piece
            # given (so from the last one, once the body is complete).
            clock = self._clock
            if clock is not None:
                clock.waiting.discard(self)
            try:
                data = await exchange.receive()
            except ClientDisconnectedError:
                self._request_done = True
                return {"type": "http.disconnect"}
            finally:
                if clock is not None and self._clock is not None:
                    self._wait_for_start(clock)
            more = not exchange.body_done
            self._request_done = not more
            return {"type": "http.request", "body": data, "more_body": more}
        await exchange.disconnected()  # once the client went, or the response is done
        return {"type": "http.disconnect"}

    async def send(self, message: Message) -> None:
        kind = message.get("type")
        if kind == "http.response.body":
            if not self._started:
                raise ResponseError("http.response.body sent before http.response.start")
            body = message.get("body", b"")
            if type(body) is not bytes:
                if not isinstance(body, (bytearray, memoryview)):
                    raise ResponseError(f"body must be bytes, not {type(body).__name__}")
                body = bytes(body)
            if message.get("more_body", False):
                await self._exchange.send(body)
            else:
                self._exchange.finish(body)
        elif kind == "http.response.start":
            self._start(message)
        else:
            raise ResponseError(f"unexpected ASGI message {kind!r} in an http scope")

    def _start(self, message: Message) -> None:
        if self._started:
            raise ResponseError("http.response.start sent a second time")
        if message.get("trailers"):
            raise ResponseError("response trailers are not supported (no such extension)")
        status = message.get("status")
        reason = _REASONS.get(status, "") if type(status) is int else ""
        headers = _str_headers(message.get("headers", ()))
        self._exchange.start_response(status, reason, headers)  # type: ignore[arg-type]
        self._started = True
        clock = self._clock
        if clock is not None:
            self._clock = None
            clock.waiting.discard(self)
