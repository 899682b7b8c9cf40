"""The ``websocket`` scope (ASGI WebSocket spec) over RFC 6455, framed by wsproto.

The opening handshake is checked here (RFC 6455 4.2.1): a request that asks for a
WebSocket but gets it wrong is answered ``400`` (``426`` with the version httpkit speaks,
for another protocol version) without calling the application.  The application then
receives ``websocket.connect``; ``websocket.accept`` answers ``101`` and the server hands
the connection's bytes over (:meth:`~httpkit.server.contract.AsyncHandlerExchange.upgrade`);
``websocket.close`` before that answers ``403``.

After the handshake wsproto frames and unframes messages; pings are answered, a message
larger than ``max_message_size`` closes the connection with 1009, a protocol error with
the code wsproto gives (1002, 1007), a stopping server with 1001 ("going away").
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import time
from typing import Any

from wsproto import ConnectionType
from wsproto.connection import Connection, ConnectionState
from wsproto.events import (
    BytesMessage,
    CloseConnection,
    Event,
    Ping,
    TextMessage,
)
from wsproto.events import (
    Message as FrameMessage,
)
from wsproto.extensions import PerMessageDeflate

from httpkit.asgi.handshake import accept_key, offered_subprotocols
from httpkit.asgi.http import StartClock
from httpkit.asgi.types import Message
from httpkit.errors import ResponseError
from httpkit.h1 import Request
from httpkit.server.contract import AsyncHandlerExchange, ClientDisconnectedError, Tunnel

__all__ = ["WebSocketCycle"]

GOING_AWAY, TOO_BIG, INTERNAL_ERROR, ABNORMAL = 1001, 1009, 1011, 1006
INFLATE_SLICE = 16 * 1024  # compressed bytes fed at once (deflate inflates <= 1032:1)


def _negotiate_deflate(request: Request) -> tuple[PerMessageDeflate, str] | None:
    """permessage-deflate (RFC 7692) if the client offers it: the extension and the
    field value that accepts it."""
    for offer in (request.header("sec-websocket-extensions") or "").split(","):
        if offer.split(";")[0].strip().lower() != "permessage-deflate":
            continue
        extension = PerMessageDeflate()
        accepted = extension.accept(offer.strip())
        if accepted is None or accepted is False:
            continue
        return extension, "permessage-deflate" + (f"; {accepted}" if accepted else "")
    return None


class _State(enum.Enum):
    CONNECTING = "before websocket.accept"
    OPEN = "open"
    CLOSED = "closed"


class WebSocketCycle:
    """The ``receive`` and ``send`` callables of one WebSocket."""

    def __init__(
        self,
        exchange: AsyncHandlerExchange,
        max_message_size: int,
        deflate: bool,
        ping_interval: float = 0.0,
        ping_timeout: float = 20.0,
    ) -> None:
        self._exchange = exchange
        self._max = max_message_size
        self._deflate = deflate
        self._ping_interval = ping_interval
        self._ping_timeout = ping_timeout
        self._pinger: asyncio.TimerHandle | None = None
        self._pinged_at = 0.0
        self._inflating = False  # permessage-deflate was agreed
        self.state = _State.CONNECTING
        self._connected = False  # websocket.connect was given
        self._tunnel: Tunnel | None = None
        self._conn: Connection | None = None
        self._parts: list[Any] = []  # the fragments of the message being received
        self._size = 0
        self._ready: list[Message] = []  # messages unframed, not yet received
        self.close_code = ABNORMAL
        self.clock: StartClock | None = None  # app_timeout, until the accept or close
        self.tick = 0
        self.timed_out = False

    def time_out(self) -> None:
        """The start clock ran out before the accept: cancel the application."""
        if self.state is _State.CONNECTING:
            self.timed_out = True
            self._exchange.cancel()

    def stop_clock(self) -> None:
        clock = self.clock
        if clock is not None:
            self.clock = None
            clock.waiting.discard(self)

    # -- receive ---------------------------------------------------------------------------

    async def receive(self) -> Message:
        if not self._connected:
            self._connected = True
            return {"type": "websocket.connect"}
        while self.state is _State.OPEN and not self._ready:
            await self._read()
        if self._ready:
            return self._ready.pop(0)
        if self.state is _State.CONNECTING:
            await self._exchange.disconnected()  # not accepted: nothing comes but that
        return {"type": "websocket.disconnect", "code": self.close_code}

    async def _read(self) -> None:
        assert self._tunnel is not None and self._conn is not None
        data = await self._tunnel.receive()
        if not data:
            if self._tunnel.going_away:
                await self._close(GOING_AWAY, "server stopping")
            self._end(GOING_AWAY if self._tunnel.going_away else ABNORMAL)
            return
        # With permessage-deflate, a few KiB can inflate to hundreds of MiB: feed the
        # frames in slices, so that the size check runs before much is inflated.
        step = INFLATE_SLICE if self._inflating else len(data)
        for start in range(0, len(data), step):
            self._conn.receive_data(data[start : start + step])
            for event in self._conn.events():
                await self._handle(event)
                if self.state is not _State.OPEN:
                    return

    async def _handle(self, event: Event) -> None:
        if isinstance(event, FrameMessage):
            self._parts.append(event.data)
            self._size += len(event.data)
            if self._size > self._max:
                await self._close(TOO_BIG, f"message larger than {self._max} bytes")
                self._end(TOO_BIG)
            elif event.message_finished:
                self._ready.append(self._message(event))
        elif isinstance(event, Ping):
            await self._pong(event)
        elif isinstance(event, CloseConnection):
            # Answer the close (RFC 6455 5.5.1), or close with the error wsproto found.
            await self._close(event.code, event.reason or "")
            self._end(event.code)

    async def _pong(self, ping: Ping) -> None:
        """Answer a ping (RFC 6455 5.5.3) -- not once a close went out: wsproto refuses
        it then.  A client gone meanwhile ends the socket: receive() says disconnect."""
        assert self._conn is not None
        if self._conn.state is not ConnectionState.OPEN:
            return
        try:
            await self._write(ping.response())
        except ClientDisconnectedError:
            self._end(ABNORMAL)

    def _message(self, event: FrameMessage[Any]) -> Message:
        parts, self._parts, self._size = self._parts, [], 0
        if isinstance(event, TextMessage):
            return {"type": "websocket.receive", "text": "".join(parts)}
        return {"type": "websocket.receive", "bytes": b"".join(parts)}

    def _end(self, code: int) -> None:
        self.state = _State.CLOSED
        self.close_code = int(code)  # a plain int, as ASGI says: not wsproto's CloseReason
        if self._pinger is not None:
            self._pinger.cancel()
            self._pinger = None
        if self._tunnel is not None:
            self._tunnel.close()

    # -- send ------------------------------------------------------------------------------

    async def send(self, message: Message) -> None:
        kind = message.get("type")
        if kind == "websocket.send":
            await self._send_message(message)
        elif kind == "websocket.accept":
            self._accept(message)
        elif kind == "websocket.close":
            if self.state is _State.CONNECTING:
                self.refuse()
            elif self.state is _State.OPEN:
                await self._close(message.get("code") or 1000, message.get("reason") or "")
                self._end(message.get("code") or 1000)
        else:
            raise ResponseError(f"unexpected ASGI message {kind!r} in a websocket scope")

    async def _send_message(self, message: Message) -> None:
        if self.state is not _State.OPEN:
            if self.state is _State.CONNECTING:
                raise ResponseError("websocket.send before websocket.accept")
            raise ClientDisconnectedError("the WebSocket is closed")
        text, data = message.get("text"), message.get("bytes")
        if text is not None and type(text) is str:
            await self._write(TextMessage(data=text))
        elif data is not None and isinstance(data, (bytes, bytearray)):
            await self._write(BytesMessage(data=bytes(data)))
        else:
            raise ResponseError("websocket.send needs text (str) or bytes")

    def _accept(self, message: Message) -> None:
        if self.state is not _State.CONNECTING:
            raise ResponseError("websocket.accept sent twice")
        request = self._exchange.request
        headers = [
            ("Upgrade", "websocket"),
            ("Connection", "Upgrade"),
            ("Sec-WebSocket-Accept", accept_key(request.header("sec-websocket-key") or "")),
        ]
        subprotocol = message.get("subprotocol")
        if subprotocol is not None:
            if type(subprotocol) is not str:
                raise ResponseError(f"subprotocol must be a str, not {subprotocol!r}")
            offered = offered_subprotocols(request)
            if subprotocol not in offered:  # RFC 6455 4.2.2: one of the client's
                raise ResponseError(
                    f"websocket.accept chose the subprotocol {subprotocol!r}, which the client "
                    f"did not offer (it offered {offered!r})"
                )
            headers.append(("Sec-WebSocket-Protocol", subprotocol))
        extensions = []
        deflate = _negotiate_deflate(request) if self._deflate else None
        if deflate is not None:
            self._inflating = True
            extensions.append(deflate[0])
            headers.append(("Sec-WebSocket-Extensions", deflate[1]))
        for name, value in message.get("headers") or ():
            if type(name) is not bytes or type(value) is not bytes:
                raise ResponseError(f"header names and values must be bytes: {(name, value)!r}")
            headers.append((name.decode("latin-1"), value.decode("latin-1")))
        self._tunnel = self._exchange.upgrade(headers)  # checks every field
        self._conn = Connection(ConnectionType.SERVER, extensions=extensions)  # type: ignore[arg-type]
        self.state = _State.OPEN
        self.stop_clock()
        if self._ping_interval:
            self._schedule_ping(self._ping_interval)

    # -- keep-alive pings (RFC 6455 5.5.2): a peer gone without a FIN is noticed ---------

    def _schedule_ping(self, delay: float) -> None:
        loop = asyncio.get_running_loop()
        self._pinger = loop.call_later(delay, self._ping)

    def _ping(self) -> None:
        """Ping a connection that has been silent for the interval; wait for any bytes.

        A loop callback: nothing may escape it.  A close may be on its way (wsproto is
        closed while the close frame is being written): no ping then."""
        assert self._tunnel is not None and self._conn is not None
        if self.state is not _State.OPEN or self._conn.state is not ConnectionState.OPEN:
            return
        silent = time.monotonic() - self._tunnel.last_received
        if silent < self._ping_interval:
            self._schedule_ping(self._ping_interval - silent)
            return
        try:
            self._tunnel.write(self._conn.send(Ping(payload=b"httpkit")))
        except ClientDisconnectedError:
            return
        self._pinged_at = time.monotonic()
        self._pinger = asyncio.get_running_loop().call_later(self._ping_timeout, self._no_pong)

    def _no_pong(self) -> None:
        """Nothing came back within the timeout (not even the pong): cut the connection."""
        assert self._tunnel is not None
        if self.state is not _State.OPEN:
            return
        if self._tunnel.last_received > self._pinged_at:
            self._schedule_ping(self._ping_interval)
            return
        self._pinger = None
        self._tunnel.abort()  # the application's receive() gives websocket.disconnect

    def refuse(self) -> None:
        """Before the accept: answer 403 (the ASGI spec's websocket.close)."""
        self.stop_clock()
        self.state = _State.CLOSED
        self.close_code = 1000
        exchange = self._exchange
        exchange.start_response(403, "Forbidden", [("Content-Type", "text/plain")])
        exchange.finish(b"Forbidden\n")

    async def fail(self) -> None:
        """The application raised after the accept: close with 1011 if still open."""
        if self.state is _State.OPEN:
            await self._close(INTERNAL_ERROR, "internal error")
            self._end(INTERNAL_ERROR)

    async def finish(self) -> None:
        """The application returned: close a socket it left open (1000)."""
        if self.state is _State.OPEN:
            await self._close(1000, "")
            self._end(1000)
        elif self.state is _State.CONNECTING:
            self.refuse()  # returned without accepting: the spec's 403

    async def _close(self, code: int, reason: str) -> None:
        conn = self._conn
        if conn is not None and conn.state in (
            ConnectionState.OPEN,
            ConnectionState.REMOTE_CLOSING,
        ):
            with contextlib.suppress(ClientDisconnectedError):  # gone: nothing to tell it
                await self._write(CloseConnection(code=code, reason=reason))

    async def _write(self, event: Event) -> None:
        assert self._tunnel is not None and self._conn is not None
        await self._tunnel.send(self._conn.send(event))
