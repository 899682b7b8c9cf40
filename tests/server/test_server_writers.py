"""Several coroutines writing to one connection while the client reads slowly.

A WebSocket handler's sender task and its receive loop (answering pings) send at
once; while the transport's buffer is full both wait, and both must go on when it
drains, or end when the connection is lost.  Socket-free, with the fakes.
"""

from __future__ import annotations

import asyncio

from fakes import Harness, connect

from httpkit.server.tunnel import Tunnel


def _two_senders(harness: Harness) -> list[asyncio.Future[None]]:
    tunnel = Tunnel(harness.conn, lambda: None)
    harness.conn.pause_writing()  # the client stopped reading
    sending = [harness.loop.create_task(tunnel.send(data)) for data in (b"one", b"two")]
    harness.run()
    assert not any(sender.done() for sender in sending)  # both wait for the drain
    return sending


def test_every_sender_waiting_for_the_drain_goes_on_when_it_comes() -> None:
    harness = connect()
    sending = _two_senders(harness)
    harness.conn.resume_writing()
    harness.run()
    assert all(sender.done() and sender.exception() is None for sender in sending)
    assert harness.written == b"onetwo"


def test_every_sender_waiting_for_the_drain_ends_when_the_connection_is_lost() -> None:
    harness = connect()
    sending = _two_senders(harness)
    harness.conn.connection_lost(None)
    harness.run()
    assert all(sender.done() for sender in sending)


def test_drained_returns_at_once_while_writes_may_go_on() -> None:
    harness = connect()
    waiting = harness.loop.create_task(harness.conn.drained())
    harness.run()
    assert waiting.done()
