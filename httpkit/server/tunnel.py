"""The connection's bytes after ``101 Switching Protocols``: a :class:`Tunnel`.

When a coroutine handler upgrades its exchange (WebSocket, RFC 6455 4.2.2), the
connection stops parsing HTTP and hands every byte it receives to the tunnel; the
handler reads them with :meth:`Tunnel.receive` and writes with :meth:`Tunnel.send`,
which waits while the client reads slowly.  Both sides run on the loop thread: no lock.
Reading pauses above :data:`TUNNEL_HIGH_WATER` buffered bytes, until the handler has
taken them.  What the handler sends within one turn of the loop goes out in one write
(up to :data:`COALESCE_LIMIT`): fifty small echoed messages cost one system call, not
fifty.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from httpkit.server.contract import ClientDisconnectedError
from httpkit.server.exchange import Channel
from httpkit.server.pieces import PieceQueue

__all__ = ["COALESCE_LIMIT", "TUNNEL_HIGH_WATER", "Tunnel"]

TUNNEL_HIGH_WATER = 256 * 1024  # bytes received and not yet taken before reading pauses
COALESCE_LIMIT = 64 * 1024  # bytes sent in one loop turn that are written together


class Tunnel:
    """One upgraded connection's byte stream (see the module documentation)."""

    __slots__ = (
        "_channel",
        "_ended",
        "_lost",
        "_outgoing",
        "_outgoing_size",
        "_received",
        "going_away",
        "last_received",
    )

    def __init__(self, channel: Channel, resume: Callable[[], None]) -> None:
        self._channel = channel
        self._received = PieceQueue(TUNNEL_HIGH_WATER, resume)
        self._ended = False  # EOF from the client
        self._lost = False
        self._outgoing: list[bytes] = []  # sent in this loop turn, written at its end
        self._outgoing_size = 0
        self.going_away = False  # the server is stopping: the handler should close
        self.last_received = time.monotonic()  # when bytes last came (liveness checks)

    # -- the loop side (the connection) --------------------------------------------------

    def push(self, data: bytes) -> bool:
        """Bytes arrived; True when the connection should pause reading."""
        self.last_received = time.monotonic()
        return self._received.push(data)

    def end(self) -> None:
        """The client closed its side."""
        self._ended = True
        self._received.wake()

    def lose(self) -> None:
        """The connection is gone."""
        self._lost = True
        self._received.wake()

    def drain(self) -> None:
        """The server is stopping: a handler waiting in receive() is woken to close."""
        self.going_away = True
        self._received.wake()

    # -- the handler side ----------------------------------------------------------------

    @property
    def closed(self) -> bool:
        """The connection is gone (or closing): nothing more can be sent."""
        return self._lost or self._channel.closing

    async def receive(self) -> bytes:
        """The bytes that arrived since the last call, waiting for some; ``b""`` once the
        client has closed its side or the connection is gone (or, with
        :attr:`going_away` set, to let the handler close)."""
        received = self._received
        while not received.buffered:
            if self._ended or self._lost or self.going_away:
                return b""
            await received.wait()
        return received.take()

    def write(self, data: bytes) -> None:
        """Write ``data`` with what else is sent in this turn of the loop, without
        waiting (a ping from a timer); :meth:`send` is the handler's way."""
        if self.closed:
            raise ClientDisconnectedError("client closed the connection")
        outgoing = self._outgoing
        if not outgoing:
            self._channel.call_soon(self._flush)
        outgoing.append(data)
        self._outgoing_size += len(data)
        if self._outgoing_size >= COALESCE_LIMIT:
            self._flush()

    async def send(self, data: bytes) -> None:
        """Write ``data`` (with what else is sent in this turn of the loop); returns once
        the transport has room again.  Raises :class:`ClientDisconnectedError` once the
        connection is gone."""
        self.write(data)
        channel = self._channel
        if channel.writing_paused:
            await channel.drained()

    def _flush(self) -> None:
        outgoing = self._outgoing
        if outgoing:
            data = outgoing[0] if len(outgoing) == 1 else b"".join(outgoing)
            outgoing.clear()
            self._outgoing_size = 0
            self._channel.write(data)

    def close(self) -> None:
        """Close the connection once what was sent is written."""
        self._flush()
        self._channel.close()

    def abort(self) -> None:
        """Cut the connection now (a peer that stopped answering)."""
        self._outgoing.clear()
        self._channel.cut_tunnel()
