"""Waiting for a body that has nothing to send yet (an event stream between events).

The body asked for the wait with ``pause_body(when_ready, timeout)`` and yielded
``b""``.  The wait ends at the first of: the body's ``wake`` (called from any thread,
typically the one publishing an event), ``timeout`` (the body's heartbeat is due), or
the connection's ``when_gone`` (the client left or closed its side, the server stops);
after the last the body is closed without another piece.

* inline (``threads=0``), :func:`wait_on_loop` returns at once and the loop goes on
  serving every other connection; the body is resumed from a loop callback;
* on a worker thread, :func:`wait_on_worker` blocks that thread (which is what a stream
  costs in thread mode) and raises ClientDisconnectedError if the client is gone.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from httpkit.server.contract import ClientDisconnectedError
from httpkit.server.exchange import Cancellable, Exchange

__all__ = ["wait_on_loop", "wait_on_worker"]


class _LoopWait:
    """One wait on the loop thread: whichever of wake, timer and gone comes first
    resumes the body, once."""

    __slots__ = ("_call_on_loop", "_resume", "_timer", "done")

    def __init__(self, exchange: Exchange, resume: Callable[[], None], timeout: float) -> None:
        channel = exchange.channel
        self._call_on_loop = channel.call_on_loop
        self._resume = resume
        self.done = False
        self._timer: Cancellable = channel.call_later(timeout, self.end)
        channel.when_gone(self.end)

    def wake(self) -> None:
        """Any thread: the body has something to send."""
        if not self.done:
            self._call_on_loop(self.end)

    def end(self) -> None:
        """Loop thread: resume the body (which sees a closing channel if it is gone)."""
        if self.done:
            return
        self.done = True
        self._timer.cancel()
        self._resume()


def wait_on_loop(exchange: Exchange, resume: Callable[[], None]) -> None:
    """Loop thread: call ``resume`` once the body's wait (see the module) ends."""
    pause = exchange.take_pause()
    if pause is None:
        exchange.channel.call_soon(resume)
        return
    when_ready, timeout = pause
    waiting = _LoopWait(exchange, resume, max(0.0, timeout))
    when_ready(waiting.wake)


def wait_on_worker(exchange: Exchange) -> None:
    """Worker thread: block until the body's wait ends; ClientDisconnectedError if the
    client is gone (or the server stops)."""
    pause = exchange.take_pause()
    if pause is None:
        return
    when_ready, timeout = pause
    woken = threading.Event()
    gone = threading.Event()

    def client_gone() -> None:
        gone.set()
        woken.set()

    channel = exchange.channel
    channel.call_on_loop(channel.when_gone, client_gone)
    when_ready(woken.set)
    woken.wait(max(0.0, timeout))
    if gone.is_set():
        raise ClientDisconnectedError("the client left while its event stream waited")
