"""WebSocketCycle's edges without sockets: a tunnel over a fake connection, frames
made by wsproto's client side, the real asyncio loop."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from wsproto import ConnectionType
from wsproto.connection import Connection
from wsproto.events import CloseConnection, Ping

from httpkit.asgi.websocket import WebSocketCycle
from httpkit.server.tunnel import Tunnel

CLIENT_KEY = "dGhlIHNhbXBsZSBub25jZQ=="  # RFC 6455 1.3


class FakeChannel:
    """A connection whose client reads only when the test says (``drain``)."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.writing_paused = False
        self.closing = False
        self._drained = asyncio.Event()

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def call_soon(self, callback: Callable[..., Any], *args: Any) -> None:
        asyncio.get_running_loop().call_soon(callback, *args)

    async def drained(self) -> None:
        await self._drained.wait()

    def drain(self) -> None:
        self.writing_paused = False
        self._drained.set()

    def close(self) -> None:
        self.closing = True

    def cut_tunnel(self) -> None:
        self.closing = True


class FakeRequest:
    def header(self, name: str) -> str | None:
        return CLIENT_KEY if name == "sec-websocket-key" else None


class FakeExchange:
    """What WebSocketCycle uses of its exchange up to the accept."""

    def __init__(self, channel: FakeChannel) -> None:
        self.request = FakeRequest()
        self.tunnel = Tunnel(channel, lambda: None)  # type: ignore[arg-type]

    def upgrade(self, headers: list[tuple[str, str]]) -> Tunnel:
        return self.tunnel


async def accepted(ping_interval: float = 0.0) -> tuple[WebSocketCycle, FakeExchange, FakeChannel]:
    channel = FakeChannel()
    exchange = FakeExchange(channel)
    cycle = WebSocketCycle(exchange, 1 << 20, False, ping_interval=ping_interval)  # type: ignore[arg-type]
    assert (await cycle.receive())["type"] == "websocket.connect"
    await cycle.send({"type": "websocket.accept"})
    return cycle, exchange, channel


def test_a_ping_from_a_client_that_is_gone_gives_disconnect_not_an_error() -> None:
    async def scenario() -> Any:
        cycle, exchange, _ = await accepted()
        client = Connection(ConnectionType.CLIENT)
        exchange.tunnel.push(client.send(Ping(b"p")))
        exchange.tunnel.lose()  # the pong cannot go out
        return await cycle.receive()

    assert asyncio.run(scenario()) == {"type": "websocket.disconnect", "code": 1006}


def test_the_keep_alive_ping_does_not_fire_while_the_close_is_being_written() -> None:
    escaped: list[dict[str, Any]] = []

    async def scenario() -> Any:
        loop = asyncio.get_running_loop()
        loop.set_exception_handler(lambda _, context: escaped.append(context))
        cycle, exchange, channel = await accepted(ping_interval=0.01)
        client = Connection(ConnectionType.CLIENT)
        channel.writing_paused = True  # the client reads slowly: the close reply waits
        exchange.tunnel.push(client.send(CloseConnection(code=1000)))
        receiving = asyncio.ensure_future(cycle.receive())
        await asyncio.sleep(0.1)  # the ping timer is due meanwhile
        channel.drain()
        return await asyncio.wait_for(receiving, 5)

    assert asyncio.run(scenario()) == {"type": "websocket.disconnect", "code": 1000}
    assert escaped == []
