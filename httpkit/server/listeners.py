"""Listening sockets, created in one place, and the loop that accepts connections.

The server accepts connections itself (rather than with ``loop.create_server``) so that
it can stop accepting while ``max_connections`` are open and start again when one
closes: the kernel then keeps new clients in its backlog instead of the server taking
connections it cannot serve.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import socket
import stat
from collections.abc import Callable

from httpkit.config import Settings, split_list
from httpkit.errors import ConfigError

__all__ = ["Listener", "bind_sockets", "bind_tcp"]

error_log = logging.getLogger("httpkit.error")

ACCEPT_BATCH = 64  # connections accepted per wake-up, so one listener cannot starve others
BACKLOG_LIMIT = 4096  # connections taken from the kernel's queue when stopping
# accept() errors that mean "no descriptor or buffer for a new socket now", not a bad client.
OUT_OF_DESCRIPTORS = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})


def bind_sockets(settings: Settings) -> list[socket.socket]:
    """The listening sockets the settings ask for; ConfigError if one cannot be bound.

    ``fd`` (an inherited socket) is served alone; otherwise every ``unix`` path and
    every ``host`` address (each on ``port``) is bound, Unix sockets first.  The
    settings already resolved host's default (none when only unix was given).
    """
    if settings.fd is not None:
        return [inherit_socket(settings.fd)]
    sockets: list[socket.socket] = []
    try:
        if settings.unix is not None:
            mode = int(settings.unix_mode, 8) if settings.unix_mode is not None else None
            for path in split_list(settings.unix):
                sockets.append(_bind_unix(path, settings.listen_backlog, mode))
        for host in split_list(settings.host):
            sockets.append(bind_tcp(host, settings.port, settings.listen_backlog))
    except ConfigError:
        for sock in sockets:  # a TCP address in use must not leave a Unix socket file
            if sock.family == socket.AF_UNIX:
                with contextlib.suppress(OSError):
                    os.unlink(sock.getsockname())
            sock.close()
        raise
    return sockets


def inherit_socket(fd: int) -> socket.socket:
    """The listening socket ``fd`` (from systemd or a supervisor), made non-blocking."""
    try:
        sock = socket.socket(fileno=fd)
    except OSError as error:
        raise ConfigError(f"cannot listen on fd {fd}: {error.strerror or error}") from None
    accepting = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN)
    if sock.type != socket.SOCK_STREAM or not accepting:
        sock.detach()  # not ours to close
        raise ConfigError(f"cannot listen on fd {fd}: not a listening stream socket")
    sock.setblocking(False)
    return sock


def bind_tcp(host: str, port: int, backlog: int = 128) -> socket.socket:
    """A listening, non-blocking TCP socket; ConfigError if it cannot be bound."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        # Restarting the server must not wait for old connections in TIME_WAIT.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind((host, port))
        sock.listen(backlog)
    except OSError as error:
        sock.close()
        where = f"[{host}]:{port}" if family == socket.AF_INET6 else f"{host}:{port}"
        raise ConfigError(f"cannot listen on {where}: {error.strerror or error}") from None
    sock.setblocking(False)
    return sock


def _bind_unix(path: str, backlog: int, mode: int | None = None) -> socket.socket:
    with contextlib.suppress(FileNotFoundError):
        if stat.S_ISSOCK(os.stat(path).st_mode):
            os.unlink(path)  # a stale socket from an earlier run; never unlink other files
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.bind(path)
        if mode is not None:
            os.chmod(path, mode)  # before listen(): no client connects with the wrong mode
        sock.listen(backlog)
    except OSError as error:
        sock.close()
        raise ConfigError(f"cannot listen on {path}: {error.strerror or error}") from None
    sock.setblocking(False)
    return sock


class Listener:
    """Accepts connections on one listening socket and hands them to ``on_accept``.

    Out of file descriptors, it stops accepting for ``exhaustion_pause`` seconds rather
    than spin on ``accept()``.  A connection that closes meanwhile frees a descriptor, so
    the server's ``resume()`` tries again at once (one ``accept()`` per closed
    connection, never a spin): waiting clients are served as fast as descriptors free up.
    An episode of exhaustion, however many pauses it lasts, logs one error when it begins
    and one line when it ends: when the backlog of waiting clients has been accepted.
    """

    exhaustion_pause = 1.0  # seconds without accepting once descriptors run out

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        sock: socket.socket,
        on_accept: Callable[[socket.socket], bool],
        *,
        exhaustion_pause: float | None = None,
    ) -> None:
        self.loop = loop
        self.sock = sock
        self.on_accept = on_accept  # returns False when no more should be accepted now
        if exhaustion_pause is not None:
            self.exhaustion_pause = exhaustion_pause
        self.accepting = False
        self._pause_timer: asyncio.TimerHandle | None = None  # set while pausing
        self._exhausted_since: float | None = None  # loop time the episode began

    @property
    def address(self) -> str | tuple[str, int]:
        name = self.sock.getsockname()
        if isinstance(name, tuple):
            return name[0], name[1]
        return str(name)

    def resume(self) -> None:
        """Start accepting (also during a pause for lack of descriptors: the caller
        freed one), unless closed."""
        if self._pause_timer is not None:
            self._pause_timer.cancel()
            self._pause_timer = None
        if not self.accepting and self.sock.fileno() >= 0:
            self.accepting = True
            self.loop.add_reader(self.sock.fileno(), self._accept_some)

    def pause(self) -> None:
        if self.accepting:
            self.accepting = False
            self.loop.remove_reader(self.sock.fileno())

    def accept_backlog(self) -> int:
        """Accept the connections the kernel has queued, handing each to ``on_accept``
        whatever it answers: called before closing, so that a client whose connection
        the kernel completed is served instead of reset.  Returns how many."""
        accepted = 0
        while self.sock.fileno() >= 0 and accepted < BACKLOG_LIMIT:
            try:
                conn, _ = self.sock.accept()
            except (BlockingIOError, InterruptedError):
                break
            except OSError:
                break  # out of descriptors, or aborted: nothing more can be taken
            conn.setblocking(False)
            self.on_accept(conn)
            accepted += 1
        return accepted

    def close(self, unlink: bool = True) -> None:
        """Stop accepting and close; ``unlink=False`` leaves a Unix socket's file (a
        worker process closing its copy of a socket that its supervisor keeps)."""
        if self._pause_timer is not None:
            self._pause_timer.cancel()
            self._pause_timer = None
        self.pause()
        if unlink and self.sock.family == socket.AF_UNIX and self.sock.fileno() >= 0:
            with contextlib.suppress(OSError):
                os.unlink(self.sock.getsockname())
        self.sock.close()

    def _accept_some(self) -> None:
        for _ in range(ACCEPT_BATCH):
            try:
                conn, _ = self.sock.accept()
            except (BlockingIOError, InterruptedError):
                self._caught_up()
                return
            except OSError as error:
                if error.errno in OUT_OF_DESCRIPTORS:
                    self._pause_for_descriptors(error)
                    return
                if error.errno == errno.ECONNABORTED:
                    continue
                raise
            conn.setblocking(False)
            if not self.on_accept(conn):
                self.pause()
                return

    def _pause_for_descriptors(self, error: OSError) -> None:
        # Waiting, rather than spinning on accept(): the connection stays in the kernel's
        # backlog until a descriptor is free.
        if self._exhausted_since is None:
            self._exhausted_since = self.loop.time()
            error_log.error(
                "cannot accept connections on %s: %s; retrying every %g s",
                self._where(),
                error.strerror or error,
                self.exhaustion_pause,
            )
        self.pause()
        self._pause_timer = self.loop.call_later(self.exhaustion_pause, self._end_pause)

    def _end_pause(self) -> None:
        self._pause_timer = None
        self.resume()

    def _caught_up(self) -> None:
        """The backlog is empty: every client that waited for a descriptor got one."""
        if self._exhausted_since is not None:
            error_log.info(
                "accepting connections on %s again (descriptors ran out for %.1f s)",
                self._where(),
                self.loop.time() - self._exhausted_since,
            )
            self._exhausted_since = None

    def _where(self) -> str:
        address = self.address
        if isinstance(address, tuple):
            host, port = address
            return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        return address
