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

from httpkit.asgi.types import Message
from httpkit.errors import ResponseError
from httpkit.server.contract import AsyncHandlerExchange, ClientDisconnectedError

__all__ = ["HTTPCycle", "reason_phrase"]

_REASONS: dict[int, str] = {status.value: status.phrase for status in HTTPStatus}


def reason_phrase(status: object) -> str:
    """The reason phrase of ``status`` ("" for a code without one; the framer checks the
    code itself)."""
    return _REASONS.get(status, "") if type(status) is int else ""


def _str_headers(raw: object) -> list[tuple[str, str]]:
    """The application's ``headers`` (an iterable of [name, value] bytes pairs) as the
    framer's strs, latin-1 decoded so that every byte is checked."""
    headers: list[tuple[str, str]] = []
    if isinstance(raw, (str, bytes)) or not isinstance(raw, Iterable):
        raise ResponseError(f"response headers must be an iterable of pairs, not {raw!r}")
    for pair in raw:
        try:
            name, value = pair
        except (TypeError, ValueError):
            raise ResponseError(
                f"a response header must be a [name, value] pair: {pair!r}"
            ) from None
        if type(name) is not bytes or type(value) is not bytes:
            raise ResponseError(f"header names and values must be bytes: {pair!r}")
        headers.append((name.decode("latin-1"), value.decode("latin-1")))
    return headers


class HTTPCycle:
    """The ``receive`` and ``send`` callables of one request."""

    __slots__ = ("_exchange", "_request_done", "_started", "timer")

    def __init__(self, exchange: AsyncHandlerExchange) -> None:
        self._exchange = exchange
        self._request_done = False  # the last http.request message was given
        self._started = False
        self.timer: asyncio.TimerHandle | None = None  # app_timeout, until the start

    async def receive(self) -> Message:
        exchange = self._exchange
        if not self._request_done:
            try:
                data = await exchange.receive()
            except ClientDisconnectedError:
                self._request_done = True
                return {"type": "http.disconnect"}
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
        headers = _str_headers(message.get("headers", ()))
        self._exchange.start_response(status, reason_phrase(status), headers)  # type: ignore[arg-type]
        self._started = True
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
