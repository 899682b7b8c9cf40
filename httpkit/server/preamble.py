"""The PROXY protocol header in front of a TLS handshake, read off the raw socket.

A TLS-passthrough load balancer sends the header, then its client's ClientHello.  The
server reads the header from the accepted socket itself, before any transport exists,
and then hands the socket to the loop's TLS transport exactly as it hands any other:
the TLS path stays the one every connection takes.  Each read peeks first and removes
only the bytes that belong to the header (:func:`parse_proxy_header` needs more only
while everything it was given is header), so not a byte of the handshake is lost.

Bounded like the header on a plain connection: its size by the parser (107 bytes for
version 1, the 16-bit length for version 2) and its time by ``header_timeout``.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Callable

from httpkit.errors import ProtocolError
from httpkit.server.proxyprotocol import V2_FIXED, Address, parse_proxy_header

__all__ = ["PreambleReader"]

error_log = logging.getLogger("httpkit.error")

PEEK_LIMIT = V2_FIXED + 0xFFFF  # the longest header the parser accepts

# One of the two is called, once: done(sock, the client's address or None to keep the
# peer's) when the header is in, failed(sock) when the connection must be closed.
Done = Callable[[socket.socket, Address | None], None]
Failed = Callable[[socket.socket], None]


class PreambleReader:
    """Reads one PROXY header from ``sock``, then calls ``done`` (or ``failed``)."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        sock: socket.socket,
        timeout: float,
        done: Done,
        failed: Failed,
    ) -> None:
        self.loop = loop
        self.sock = sock
        self._done = done
        self._failed = failed
        self._header = b""  # the header's bytes taken so far
        self.finished = False
        self._fd = sock.fileno()
        self._timeout = timeout
        self._timer: asyncio.TimerHandle | None = None

    def start(self) -> None:
        """Read what has arrived; wait for the rest (if any) on the loop."""
        # The proxy sends its header as it connects: it is usually there by the time the
        # connection is accepted, and then neither a reader nor a timer is needed.
        self._readable()
        if not self.finished:
            self.loop.add_reader(self._fd, self._readable)
            self._timer = self.loop.call_later(self._timeout, self._timed_out)

    def _readable(self) -> None:
        try:
            peeked = self.sock.recv(PEEK_LIMIT - len(self._header), socket.MSG_PEEK)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as error:
            self._fail(f"connection lost before the PROXY header: {error}")
            return
        if not peeked:
            self._fail("connection closed before the PROXY header was complete")
            return
        try:
            parsed = parse_proxy_header(self._header + peeked)
        except ProtocolError as error:
            self._fail(str(error))
            return
        if parsed is None:  # every byte peeked is header: take them all
            self._header += self._take(len(peeked))
            return
        client, consumed = parsed
        self._take(consumed - len(self._header))
        self._stop()
        self._done(self.sock, client)

    def _take(self, count: int) -> bytes:
        # What was peeked is there: this recv() neither blocks nor returns less.
        return self.sock.recv(count)

    def _timed_out(self) -> None:
        self._timer = None
        self._fail("PROXY header took too long")

    def cancel(self) -> None:
        """The server stops: close the connection (unless the header is in already)."""
        if not self.finished:
            self._fail("server stopping")

    def _fail(self, reason: str) -> None:
        # The peer expects TLS after its header: an HTTP 400 in clear would mean nothing.
        error_log.debug("closing a connection from a trusted proxy: %s", reason)
        self._stop()
        self._failed(self.sock)

    def _stop(self) -> None:
        self.finished = True
        self.loop.remove_reader(self._fd)
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
