"""``os.sendfile`` straight to a transport's socket, for loops without ``loop.sendfile``.

asyncio's own loop sends a file over a transport with ``loop.sendfile``; uvloop's loop
does not implement it (its transports are libuv streams), so before this module every
file went through userspace in 64 KiB blocks there.  :func:`sendfile_to_transport` calls
``os.sendfile`` on the transport's non-blocking socket itself, but only while the
transport's own buffer is empty -- bytes the transport still holds must reach the client
first, or the file would overtake them.

When the socket is full (``EAGAIN``) one small block is read with ``pread`` and handed to
the transport: the transport then waits for the socket to become writable, as it does for
any write, and with its high-water mark at 0 for the duration it calls ``pause_writing``
at once and ``resume_writing`` once that block is out.  That is the back-pressure: the
loop never spins, the send timeout applies to the pause as to any other, and almost every
byte still goes through the kernel (one block per full socket buffer is copied).

:func:`unacknowledged` asks the kernel how much of what was written to a transport's
socket the peer has not acknowledged yet: a connection being closed is cut only once
that is nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import struct
from collections.abc import Awaitable, Callable
from typing import IO

from httpkit.errors import ResponseError

_OUTQ: int | None = None  # the ioctl that reads a socket's send queue (SIOCOUTQ)
with contextlib.suppress(ImportError, AttributeError):  # POSIX; Linux answers it
    import fcntl
    import termios

    _OUTQ = termios.TIOCOUTQ

__all__ = ["FALLBACK_BLOCK", "sendfile_to_transport", "socket_fileno", "unacknowledged"]

FALLBACK_BLOCK = 16 * 1024  # copied through the transport each time the socket is full
_MAX_CALL = 0x7FFFF000  # Linux sends at most this many bytes per sendfile call
# sendfile(2) refuses some files (FUSE, /proc): then the file goes in blocks, as TLS does.
_UNSUPPORTED = frozenset({errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP})


def socket_fileno(transport: asyncio.BaseTransport) -> int | None:
    """The descriptor of the transport's socket, or None (no socket, or no sendfile)."""
    if not hasattr(os, "sendfile"):
        return None
    sock = transport.get_extra_info("socket")
    try:
        fileno = sock.fileno() if sock is not None else -1
    except (AttributeError, OSError, ValueError):
        return None
    return fileno if fileno >= 0 else None


def unacknowledged(transport: asyncio.BaseTransport) -> int:
    """Bytes in the send queue of the transport's socket that the peer has not
    acknowledged (Linux's SIOCOUTQ); 0 where the kernel does not say."""
    sock = transport.get_extra_info("socket")
    if _OUTQ is None or sock is None:
        return 0
    try:
        answer = fcntl.ioctl(sock.fileno(), _OUTQ, bytes(4))
    except (AttributeError, OSError, ValueError):
        return 0
    (count,) = struct.unpack("i", answer)
    return max(0, int(count))


async def sendfile_to_transport(
    transport: asyncio.WriteTransport,
    file: IO[bytes],
    offset: int,
    count: int,
    *,
    writable: Callable[[], Awaitable[None]],
    closing: Callable[[], bool],
) -> int:
    """Send ``count`` bytes of ``file`` from ``offset``; returns how many went out.

    ``writable()`` waits until the transport's buffer has drained (the connection's
    ``resume_writing``); ``closing()`` says the connection is going away (then fewer than
    ``count`` bytes are sent).  A file shorter than promised is a ResponseError.
    """
    out = socket_fileno(transport)
    if out is None:
        raise ResponseError("the transport has no socket to sendfile on")
    source = file.fileno()
    low, high = transport.get_write_buffer_limits()
    transport.set_write_buffer_limits(high=0, low=0)  # any buffered byte pauses writing
    sent_total = 0
    kernel = True  # False once sendfile(2) refused this file: blocks, as over TLS
    try:
        while sent_total < count and not closing():
            if transport.get_write_buffer_size():
                await writable()
                continue
            position, left = offset + sent_total, count - sent_total
            sent = _kernel_send(out, source, position, left) if kernel else None
            if sent is None or sent < 0:  # the socket is full, or no kernel send
                kernel = kernel and sent is None
                sent_total += _hand_block_to_transport(transport, source, position, left)
                await writable()
            elif sent == 0:
                raise ResponseError(f"the file ended {left} bytes short of its size")
            else:
                sent_total += sent
    finally:
        if not transport.is_closing():
            transport.set_write_buffer_limits(high=high, low=low)
    return sent_total


def _kernel_send(out: int, source: int, position: int, left: int) -> int | None:
    """Bytes sendfile(2) sent; None when the socket is full, -1 when it refuses the file."""
    try:
        return os.sendfile(out, source, position, min(left, _MAX_CALL))
    except BlockingIOError:
        return None
    except OSError as error:
        if error.errno in _UNSUPPORTED:
            return -1
        raise


def _hand_block_to_transport(
    transport: asyncio.WriteTransport, source: int, position: int, left: int
) -> int:
    """The socket is full: the transport takes one block and waits for it to drain."""
    block = os.pread(source, min(FALLBACK_BLOCK, left), position)
    if not block:
        raise ResponseError(f"the file ended {left} bytes short of its size")
    transport.write(block)
    return len(block)
