"""Write back-pressure between a worker thread and the event loop.

A worker hands response bytes to the loop, which writes them to the transport.  The
transport says when its buffer is too full (``pause_writing``) and when it drained
(``resume_writing``).  :class:`WriteFlow` owns that state and the count of bytes handed
over but not yet written, under one lock; a worker waits in :meth:`hand_over` while the
client reads slowly, and every wait is bounded so a lost connection is noticed.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable

from httpkit.server.contract import ClientDisconnectedError
from httpkit.server.reqbody import WAIT_STEP

__all__ = ["WRITE_HIGH_WATER", "WriteFlow"]

WRITE_HIGH_WATER = 256 * 1024  # bytes a worker may hand to the loop before waiting


class WriteFlow:
    """The write side's shared state (see the module documentation)."""

    __slots__ = ("_cond", "_in_flight", "_lost", "paused", "paused_at")

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._in_flight = 0
        self._lost = False
        self.paused = False  # the transport's buffer is full (read on the loop thread)
        self.paused_at = math.inf  # loop time of the pause, for the send timeout

    def pause(self, now: float) -> None:
        """Loop: the transport asked to stop writing."""
        with self._cond:
            self.paused = True
            self.paused_at = now

    def resume(self) -> None:
        """Loop: the transport's buffer drained."""
        with self._cond:
            self.paused = False
            self.paused_at = math.inf
            self._cond.notify_all()

    def lose(self) -> None:
        """Loop: the connection is gone; waiting workers give up."""
        with self._cond:
            self._lost = True
            self._cond.notify_all()

    def hand_over(self, size: int, deliver: Callable[[], object]) -> None:
        """Worker: wait until ``size`` more bytes may go, then ``deliver`` them.

        Raises :class:`ClientDisconnectedError` once the connection is lost.
        """
        with self._cond:
            while (self.paused or self._in_flight > WRITE_HIGH_WATER) and not self._lost:
                self._cond.wait(WAIT_STEP)
            if self._lost:
                raise ClientDisconnectedError("client closed the connection during the response")
            self._in_flight += size
        deliver()

    def written(self, size: int) -> None:
        """Loop: ``size`` handed-over bytes reached the transport."""
        with self._cond:
            self._in_flight -= size
            self._cond.notify_all()
