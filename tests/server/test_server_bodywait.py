"""Bodies that wait (pause_body), socket-free: a fake clock, loop and transport.

A body with nothing to send calls ``pause_body(when_ready, timeout)`` and yields b"".
The server must then stop pulling it (never spinning the loop), pull it again at its
wake, its timeout, or close it when the client goes away, and give back its stream slot.
"""

from __future__ import annotations

import collections
import threading
from collections.abc import Callable, Iterable
from typing import Any

import pytest
from fakes import BOUND, Harness, connect, get

from httpkit.server.contract import HandlerExchange
from httpkit.server.modes import InlineMode, ThreadMode
from httpkit.server.streams import StreamSlots

TIMEOUT = 15.0


class PausingBody:
    """Sends what is pushed; with nothing queued, asks the server to wait."""

    def __init__(self, exchange: HandlerExchange) -> None:
        self.exchange = exchange
        self.pending: collections.deque[bytes] = collections.deque([b"first"])
        self.lock = threading.Lock()
        self.wake: Callable[[], None] | None = None
        self.pulls = 0
        self.closed = threading.Event()

    def __iter__(self) -> PausingBody:
        return self

    def __next__(self) -> bytes:
        with self.lock:
            self.pulls += 1
            if self.pending:
                return self.pending.popleft()
        self.exchange.pause_body(self.register, TIMEOUT)
        return b""

    def register(self, wake: Callable[[], None]) -> None:
        with self.lock:
            if not self.pending:
                self.wake = wake
                return
        wake()

    def push(self, piece: bytes) -> None:
        with self.lock:
            self.pending.append(piece)
            wake, self.wake = self.wake, None
        if wake is not None:
            wake()

    def close(self) -> None:
        self.closed.set()


class Streams:
    """A handler answering with a PausingBody; the bodies it made."""

    def __init__(self) -> None:
        self.bodies: list[PausingBody] = []
        self.refused = 0

    def __call__(self, exchange: HandlerExchange) -> Iterable[bytes]:
        exchange.start_response(200, "OK", [("Content-Type", "text/event-stream")])
        if not exchange.open_stream():
            self.refused += 1
            return [b"refused"]
        body = PausingBody(exchange)
        self.bodies.append(body)
        return body


def from_another_thread(action: Callable[[], Any]) -> None:
    thread = threading.Thread(target=action)
    thread.start()
    thread.join(BOUND)


def inline(streams: Streams, max_streams: int = 1) -> Harness:
    return connect(streams, mode=lambda handler: InlineMode(handler, max_streams))


def test_inline_a_paused_body_is_not_pulled_until_woken() -> None:
    streams = Streams()
    h = inline(streams)
    h.feed(get())
    h.run()
    body = streams.bodies[0]
    assert b"first" in h.written
    assert body.pulls == 2  # "first", then the b"" that paused it
    h.run()
    h.advance(TIMEOUT / 2)
    h.run()
    assert body.pulls == 2  # no spinning while it waits
    from_another_thread(lambda: body.push(b"second"))  # an event published elsewhere
    h.run()
    assert h.written.endswith(b"second\r\n")
    assert body.pulls == 4
    assert not body.closed.is_set()


def test_inline_a_paused_body_is_pulled_again_after_its_timeout() -> None:
    streams = Streams()
    h = inline(streams)
    h.feed(get())
    h.run()
    body = streams.bodies[0]
    h.advance(TIMEOUT - 0.1)
    h.run()
    assert body.pulls == 2
    h.advance(0.2)  # the heartbeat is due: the body gets its chance to send one
    h.run()
    assert body.pulls == 3


@pytest.mark.parametrize(
    "leave",
    [
        lambda h: h.conn.eof_received(),  # the client closed its side
        lambda h: h.conn.connection_lost(None),  # the connection is gone
        lambda h: h.conn.drain(),  # the server stops
    ],
    ids=["eof", "lost", "drain"],
)
def test_inline_a_paused_body_is_closed_when_the_client_goes(
    leave: Callable[[Harness], Any],
) -> None:
    streams = Streams()
    h = inline(streams)
    h.feed(get())
    h.run()
    body = streams.bodies[0]
    leave(h)
    h.run()
    assert body.closed.is_set()
    assert h.transport.is_closing()
    assert body.pulls == 2  # closed without being asked for another piece
    assert h.ctx.mode.streams.open == 0  # type: ignore[attr-defined]


def test_inline_the_stream_slot_is_given_back_and_the_bound_holds() -> None:
    streams = Streams()
    mode = InlineMode(streams, 1)
    first = connect(mode=lambda handler: mode)
    second = connect(mode=lambda handler: mode)
    first.feed(get())
    first.run()
    second.feed(get())
    second.run()
    assert streams.refused == 1 and b"refused" in second.written
    assert mode.streams.open == 1
    first.conn.eof_received()
    first.run()
    assert mode.streams.open == 0


def test_threaded_a_paused_body_waits_on_its_worker_and_ends_with_the_client() -> None:
    streams = Streams()
    h = connect(streams, mode=lambda handler: ThreadMode(handler, 2, 0, max_streams=1))
    try:
        h.feed(get())
        h.run_until(lambda: b"first" in h.written)
        body = streams.bodies[0]
        h.run_until(lambda: body.wake is not None)  # the worker is waiting
        body.push(b"second")
        h.run_until(lambda: h.written.endswith(b"second\r\n"))
        h.run_until(lambda: body.wake is not None)
        h.conn.eof_received()
        h.run_until(body.closed.is_set)
        assert h.transport.is_closing()
        assert h.ctx.mode.streams.open == 0  # type: ignore[attr-defined]
    finally:
        h.ctx.mode.close(BOUND)


def test_stream_slots() -> None:
    slots = StreamSlots(2)
    assert slots.take() and slots.take()
    assert not slots.take()
    slots.give_back()
    assert slots.take()
    assert not StreamSlots(0).take()
