"""PieceQueue: what a coroutine body and a tunnel buffer, and when reading pauses."""

from __future__ import annotations

import asyncio

from httpkit.server.pieces import PieceQueue


def test_pieces_are_taken_whole_and_reading_pauses_once_per_crossing() -> None:
    resumed: list[int] = []
    queue = PieceQueue(10, lambda: resumed.append(1))
    assert queue.push(b"12345") is False
    assert queue.push(b"678901") is True  # 11 bytes: above the mark, pause
    assert queue.push(b"more") is False  # already paused: said once
    assert queue.buffered == 15
    assert queue.take() == b"12345678901more"
    assert queue.buffered == 0
    assert resumed == [1]
    assert queue.take() == b""
    assert resumed == [1]  # not paused any more: no second resume


def test_a_waiting_coroutine_is_woken_by_a_push_or_a_wake() -> None:
    async def scenario() -> list[bytes]:
        queue = PieceQueue(1 << 20, lambda: None)
        got = []
        waiting = asyncio.ensure_future(queue.wait())
        await asyncio.sleep(0)  # it waits now
        queue.push(b"first")
        await asyncio.wait_for(waiting, 5)
        got.append(queue.take())
        waiting = asyncio.ensure_future(queue.wait())
        await asyncio.sleep(0)
        queue.wake()  # the stream ended: nothing pushed
        await asyncio.wait_for(waiting, 5)
        got.append(queue.take())
        return got

    assert asyncio.run(scenario()) == [b"first", b""]
