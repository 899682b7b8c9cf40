"""Received bytes waiting for one coroutine: a :class:`PieceQueue`.

A coroutine handler's request body (:class:`~httpkit.server.reqbody.AwaitedBody`) and
an upgraded connection's byte stream (:class:`~httpkit.server.tunnel.Tunnel`) both keep
what the loop received until their handler takes it.  The loop pushes pieces; the
handler takes all of them at once, joined.  Reading pauses once more than the high-water
mark is buffered and resumes when the handler has taken it, so a slow handler bounds the
memory.  Both sides run on the loop thread: no lock.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

__all__ = ["PieceQueue"]


class PieceQueue:
    """Pieces pushed by the loop, taken whole by one waiting coroutine."""

    __slots__ = ("_high_water", "_paused", "_pieces", "_resume", "_waiter", "buffered")

    def __init__(self, high_water: int, resume: Callable[[], None]) -> None:
        self._high_water = high_water
        self._resume = resume  # asks the connection to read on
        self._pieces: list[bytes] = []
        self._paused = False
        self._waiter: asyncio.Future[None] | None = None
        self.buffered = 0  # bytes pushed and not yet taken

    def push(self, data: bytes) -> bool:
        """Loop: bytes arrived.  True when the connection should pause reading (once
        per crossing of the high-water mark)."""
        self._pieces.append(data)
        self.buffered += len(data)
        self.wake()
        if not self._paused and self.buffered > self._high_water:
            self._paused = True
            return True
        return False

    def wake(self) -> None:
        """Loop: end the coroutine's :meth:`wait` (bytes came, or the stream's state
        changed: it ended, the connection went, the server stops)."""
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            if not waiter.done():
                waiter.set_result(None)

    async def wait(self) -> None:
        """Handler: return at the next :meth:`wake`."""
        waiter = self._waiter = asyncio.get_running_loop().create_future()
        await waiter

    def take(self) -> bytes:
        """Handler: everything buffered (``b""`` if nothing); reading resumes if it was
        paused."""
        pieces = self._pieces
        data = pieces[0] if len(pieces) == 1 else b"".join(pieces)
        pieces.clear()
        self.buffered = 0
        if self._paused:
            self._paused = False
            self._resume()
        return data
