"""The coroutine handler's loop-only buffers, without sockets: AwaitedBody and Tunnel."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from httpkit.errors import ProtocolError
from httpkit.server.contract import ClientDisconnectedError
from httpkit.server.reqbody import BODY_HIGH_WATER, AwaitedBody
from httpkit.server.tunnel import COALESCE_LIMIT, TUNNEL_HIGH_WATER, Tunnel


def test_a_body_pauses_once_above_the_high_water_and_resumes_once_taken() -> None:
    resumed: list[bool] = []
    body = AwaitedBody(lambda: resumed.append(True))
    piece = b"x" * (BODY_HIGH_WATER // 2)
    assert body.push(piece) is False
    assert body.push(piece) is False  # at the mark, not above it
    assert body.push(b"y") is True  # the one pause
    assert body.push(b"z") is False  # already paused: no second pause
    data = asyncio.run(body.receive())
    assert len(data) == BODY_HIGH_WATER + 2 and resumed == [True]
    body.end()
    assert asyncio.run(body.receive()) == b"" and body.drained


def test_receive_waits_for_a_piece_then_reports_the_error_or_the_loss() -> None:
    async def scenario() -> tuple[bytes, Any, Any]:
        body = AwaitedBody(lambda: None)
        loop = asyncio.get_running_loop()
        loop.call_later(0.01, body.push, b"late")
        first = await body.receive()
        body.end(ProtocolError("too large", 413))
        with pytest.raises(ProtocolError) as refused:
            await body.receive()
        lost = AwaitedBody(lambda: None)
        loop.call_later(0.01, lost.connection_lost)
        with pytest.raises(ClientDisconnectedError) as gone:
            await lost.receive()
        return first, refused.value.status, gone.value

    first, status, gone = asyncio.run(scenario())
    assert (first, status) == (b"late", 413)
    assert isinstance(gone, OSError)


class FakeChannel:
    """What a Tunnel uses of its connection: writes recorded, callbacks on the loop."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.writing_paused = False
        self.closing = False
        self.closed = False

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def call_soon(self, callback: Callable[..., Any], *args: Any) -> None:
        asyncio.get_running_loop().call_soon(callback, *args)

    async def drained(self) -> None:
        await asyncio.sleep(0.01)

    def close(self) -> None:
        self.closed = True

    def cut_tunnel(self) -> None:
        self.closed = True


def test_what_is_sent_in_one_loop_turn_leaves_in_one_write() -> None:
    channel = FakeChannel()

    async def scenario() -> None:
        tunnel = Tunnel(channel, lambda: None)  # type: ignore[arg-type]
        for number in range(50):
            await tunnel.send(b"%d," % number)
        assert channel.writes == []  # not yet: at the end of this turn
        await asyncio.sleep(0)
        assert channel.writes == [b"".join(b"%d," % n for n in range(50))]
        await tunnel.send(b"z" * COALESCE_LIMIT)  # a large one is not held back
        assert channel.writes[-1].endswith(b"z" * COALESCE_LIMIT)
        tunnel.close()

    asyncio.run(scenario())
    assert channel.closed


def test_a_tunnel_pauses_reading_above_its_high_water_and_send_raises_once_lost() -> None:
    channel = FakeChannel()
    resumed: list[bool] = []

    async def scenario() -> bytes:
        tunnel = Tunnel(channel, lambda: resumed.append(True))  # type: ignore[arg-type]
        assert tunnel.push(b"a" * TUNNEL_HIGH_WATER) is False
        assert tunnel.push(b"b") is True
        data = await tunnel.receive()
        tunnel.lose()
        with pytest.raises(ClientDisconnectedError):
            await tunnel.send(b"too late")
        assert await tunnel.receive() == b""
        return data

    data = asyncio.run(scenario())
    assert len(data) == TUNNEL_HIGH_WATER + 1 and resumed == [True]
