"""The request body between the event loop, which receives it, and the handler.

Each class here owns its buffer and everything decided from it; the loop and the
handler meet only through its methods:

* :class:`SpooledBody` (inline mode): the whole body is received before the handler
  runs, in memory up to :data:`SPOOL_IN_MEMORY` and in a temporary file above, so a read
  never blocks the loop.  Both sides are the loop thread: no lock.
* :class:`StreamingBody` (thread mode): the handler reads as the bytes arrive.  One lock
  guards the buffer *and* the decision to pause or resume reading the socket, so that a
  pause decided by the loop and a drain by the worker cannot miss each other (a missed
  resume would leave the upload paused forever, with no deadline running).
* :class:`AwaitedBody` (a coroutine handler, :mod:`httpkit.server.tasks`): the handler's
  task awaits the pieces as they arrive.  Both sides are the loop thread: no lock.
"""

from __future__ import annotations

import errno
import tempfile
import threading
from collections import deque
from collections.abc import Callable
from typing import IO

from httpkit.errors import ProtocolError
from httpkit.server.contract import ClientDisconnectedError
from httpkit.server.pieces import PieceQueue

__all__ = [
    "BODY_HIGH_WATER",
    "BODY_LOW_WATER",
    "SPOOL_IN_MEMORY",
    "WAIT_STEP",
    "AwaitedBody",
    "RequestBody",
    "SpoolError",
    "SpooledBody",
    "StreamingBody",
]

SPOOL_IN_MEMORY = 1 << 20  # inline mode: bodies above this go to a temporary file
BODY_HIGH_WATER = 256 * 1024  # thread mode: stop reading the socket above this
BODY_LOW_WATER = 64 * 1024  # ... and start again below this
WAIT_STEP = 0.25  # seconds between checks of a blocked worker (bounds every wait)


class SpoolError(ProtocolError):
    """The server could not store a request body (disk full, out of file descriptors).

    Not the client's fault: answered with 503 and Retry-After, so it may try again.
    """

    def __init__(self, error: OSError) -> None:
        name = errno.errorcode.get(error.errno or 0, "error")
        super().__init__(f"cannot spool the request body: {name} ({error.strerror})", 503)


class RequestBody:
    """What the exchange and the connection may do with a request body.

    The loop calls :meth:`push` for each piece and :meth:`end` once; the handler calls
    :meth:`read`.  ``error`` is why the body stopped early (413, a bad chunk...).
    """

    __slots__ = ("complete", "error")

    def __init__(self) -> None:
        self.complete = False
        self.error: ProtocolError | None = None

    def push(self, data: bytes) -> bool:
        """Loop: a piece arrived; True when the socket should pause (the reader is behind)."""
        raise NotImplementedError

    def end(self, error: ProtocolError | None = None) -> None:
        """Loop: the body is complete, or stopped by ``error``."""
        raise NotImplementedError

    def read(self, size: int) -> bytes:
        """Handler: up to ``size`` bytes (all that is left if negative); b"" at the end."""
        raise NotImplementedError

    def connection_lost(self) -> None:
        """Loop: the client went away; a waiting reader must give up."""

    def close(self) -> None:
        """Loop: the exchange is over; free what the body holds."""


class SpooledBody(RequestBody):
    """Inline mode's body: received in full before the handler runs (see the module)."""

    __slots__ = ("_memory", "_spool")

    def __init__(self) -> None:
        super().__init__()
        self._memory = bytearray()
        self._spool: IO[bytes] | None = None

    def push(self, data: bytes) -> bool:
        spool = self._spool
        if spool is None:
            if len(self._memory) + len(data) <= SPOOL_IN_MEMORY:
                self._memory += data
                return False
            spool = self._spool = self._open_spool()
        try:
            spool.write(data)
        except OSError as error:
            raise SpoolError(error) from error
        return False

    def _open_spool(self) -> IO[bytes]:
        try:
            # Looked up on the module at each call, so that tests can make it fail.
            spool = tempfile.TemporaryFile()  # noqa: SIM115 (closed by close())
            spool.write(self._memory)
        except OSError as error:
            raise SpoolError(error) from error
        self._memory = bytearray()
        return spool

    def end(self, error: ProtocolError | None = None) -> None:
        self.error = error
        self.complete = True
        if self._spool is not None:
            self._spool.seek(0)

    def read(self, size: int) -> bytes:
        if self._spool is not None:
            return self._spool.read(size)
        memory = self._memory
        if size < 0 or size >= len(memory):
            data = bytes(memory)
            memory.clear()
        else:
            data = bytes(memory[:size])
            del memory[:size]
        return data

    def close(self) -> None:
        if self._spool is not None:
            self._spool.close()


class StreamingBody(RequestBody):
    """Thread mode's body: the worker reads while the loop receives (see the module).

    ``resume`` is called from the worker, under this body's lock, once it has drained a
    paused buffer below :data:`BODY_LOW_WATER`; it must only schedule work on the loop.
    """

    __slots__ = ("_buffered", "_cond", "_lost", "_offset", "_paused", "_pieces", "_resume")

    def __init__(self, resume: Callable[[], None]) -> None:
        super().__init__()
        # The pieces as received, never joined: a piece the reader takes whole reaches it
        # without a copy.  ``_offset`` is how much of the first piece was taken already.
        self._pieces: deque[bytes] = deque()
        self._offset = 0
        self._buffered = 0
        self._cond = threading.Condition(threading.Lock())
        self._paused = False
        self._lost = False
        self._resume = resume

    @property
    def paused(self) -> bool:
        with self._cond:
            return self._paused

    def push(self, data: bytes) -> bool:
        with self._cond:
            self._pieces.append(data)
            self._buffered += len(data)
            self._cond.notify()
            if not self._paused and self._buffered > BODY_HIGH_WATER:
                self._paused = True
                return True
            return False

    def end(self, error: ProtocolError | None = None) -> None:
        with self._cond:
            self.error = error
            self.complete = True
            self._cond.notify_all()

    def connection_lost(self) -> None:
        with self._cond:
            self._lost = True
            self._cond.notify_all()

    def read(self, size: int) -> bytes:
        """Wait for bytes; ``size < 0`` collects them to the end."""
        pieces: list[bytes] = []
        with self._cond:
            while True:
                if self._buffered:
                    pieces.append(self._take(size))
                    if self._paused and self._buffered < BODY_LOW_WATER:
                        # Decided under the lock the loop pauses under: one resume per
                        # pause.  The callback only schedules work on the loop.
                        self._paused = False
                        self._resume()
                    if size >= 0:
                        break
                if self.complete:
                    break
                if self._lost:
                    raise ClientDisconnectedError("client closed the connection during the body")
                self._cond.wait(WAIT_STEP)
            if self.error is not None and (size < 0 or not pieces):
                raise self.error
        return pieces[0] if len(pieces) == 1 else b"".join(pieces)

    def _take(self, size: int) -> bytes:
        """Up to ``size`` buffered bytes (all if negative): the first piece itself when
        it is all that was asked for, else one copy of what was."""
        pieces = self._pieces
        first = pieces[0]
        offset = self._offset
        left = len(first) - offset
        if 0 <= size < left:
            self._offset = offset + size
            self._buffered -= size
            return first[offset : offset + size]
        pieces.popleft()
        data = first[offset:] if offset else first
        self._offset = 0
        want = self._buffered if size < 0 else size
        if len(data) < want and pieces:
            parts = [data]
            taken = len(data)
            while pieces and taken < want:
                piece = pieces[0]
                if taken + len(piece) <= want:
                    parts.append(pieces.popleft())
                    taken += len(piece)
                else:
                    cut = want - taken
                    parts.append(piece[:cut])
                    self._offset = cut
                    taken = want
            data = b"".join(parts)
        self._buffered -= len(data)
        return data


class AwaitedBody(RequestBody):
    """A coroutine handler's body: its task awaits pieces as the loop receives them.

    Reading pauses above :data:`BODY_HIGH_WATER` buffered bytes and ``resume`` is
    called once the handler has taken them, so a slow handler bounds the memory.
    """

    __slots__ = ("_lost", "_queue")

    def __init__(self, resume: Callable[[], None]) -> None:
        super().__init__()
        self._queue = PieceQueue(BODY_HIGH_WATER, resume)
        self._lost = False

    @property
    def drained(self) -> bool:
        """Complete and nothing left to take."""
        return self.complete and not self._queue.buffered

    def push(self, data: bytes) -> bool:
        return self._queue.push(data)

    def end(self, error: ProtocolError | None = None) -> None:
        self.error = error
        self.complete = True
        self._queue.wake()

    def connection_lost(self) -> None:
        self._lost = True
        self._queue.wake()

    def read(self, size: int) -> bytes:
        """What has arrived (``size`` is ignored: a coroutine handler takes it all)."""
        return self._queue.take()

    async def receive(self) -> bytes:
        """The pieces that arrived, waiting for one; b"" at the end.

        Raises the error that stopped the body, or :class:`ClientDisconnectedError`.
        """
        queue = self._queue
        while not queue.buffered:
            if self._lost:
                raise ClientDisconnectedError("client closed the connection during the body")
            if self.complete:
                if self.error is not None:
                    raise self.error
                return b""
            await queue.wait()
        return queue.take()
