"""systemd: readiness and watchdog notifications, and socket activation.

Both protocols are small and stable, so they are written here rather than taken from a
package (see sd_notify(3) and sd_listen_fds(3)):

* ``NOTIFY_SOCKET`` names a datagram socket (a path, or ``@name`` in the abstract
  namespace); each message is one datagram of ``KEY=VALUE`` lines.  With
  ``WATCHDOG_USEC`` set (and ``WATCHDOG_PID`` naming this process, if set) the service
  must send ``WATCHDOG=1`` more often than that; we send it at half the period.
* ``LISTEN_FDS=n`` with ``LISTEN_PID`` naming this process passes ``n`` listening sockets
  as descriptors 3 to 3+n-1, named by ``LISTEN_FDNAMES`` (``name:name``).

The variables are removed from the environment once read, as ``sd_notify`` and
``sd_listen_fds`` do when asked: a worker process or a program the application starts
must not believe that it is the service, or that the descriptors are its own.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass, field

from httpkit.errors import ConfigError

__all__ = ["LISTEN_FDS_START", "Notifier", "activated_sockets", "forget_activation"]

error_log = logging.getLogger("httpkit.error")
server_log = logging.getLogger("httpkit.server")

LISTEN_FDS_START = 3  # SD_LISTEN_FDS_START
LISTEN_FAMILIES = (socket.AF_INET, socket.AF_INET6, socket.AF_UNIX)
LISTEN_VARIABLES = ("LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES")
EARLY = 0.25  # the part of the beats' period by which a beat may come early


@dataclass
class Notifier:
    """Tells the service manager about state changes; without ``address``, does nothing.

    ``watchdog`` is the period of ``WATCHDOG=1`` messages in seconds (None: no watchdog).
    """

    address: str | None = None  # the socket's path; abstract names start with "\0"
    watchdog: float | None = None
    clock: Callable[[], float] = time.monotonic
    _sock: socket.socket | None = field(default=None, init=False, repr=False)
    _next_beat: float = field(default=0.0, init=False, repr=False)
    _failed: bool = field(default=False, init=False, repr=False)  # logged once

    @classmethod
    def from_environ(cls, environ: MutableMapping[str, str] | None = None) -> Notifier:
        """The notifier ``NOTIFY_SOCKET`` asks for, removing the variables it read."""
        environ = os.environ if environ is None else environ
        target = environ.pop("NOTIFY_SOCKET", "")
        usec, watchdog_pid = environ.pop("WATCHDOG_USEC", ""), environ.pop("WATCHDOG_PID", "")
        if not target:
            return cls()
        if target[0] not in "/@":
            error_log.warning("NOTIFY_SOCKET: not a path or @name, ignored: %r", target)
            return cls()
        address = "\0" + target[1:] if target[0] == "@" else target
        return cls(address, _watchdog_period(usec, watchdog_pid))

    @property
    def enabled(self) -> bool:
        return self.address is not None

    def send(self, *lines: str) -> None:
        """One datagram of ``KEY=VALUE`` lines (nothing without a notify socket)."""
        if self.address is None:
            return
        try:
            if self._sock is None:
                self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            self._sock.sendto("\n".join(lines).encode(), self.address)
        except OSError as error:
            if not self._failed:  # the service still runs: say it once
                self._failed = True
                error_log.warning("cannot notify systemd at %r: %s", self.address, error)

    def ready(self, status: str | None = None) -> None:
        self.send("READY=1", *([f"STATUS={status}"] if status else []))

    def reloading(self) -> None:
        # systemd >= 253 (Type=notify-reload) wants to know when the reload began.
        usec = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        self.send("RELOADING=1", f"MONOTONIC_USEC={usec}")

    def stopping(self) -> None:
        self.send("STOPPING=1")

    # -- the watchdog ------------------------------------------------------------------

    def beat(self) -> None:
        """Send ``WATCHDOG=1`` if it is due (call it at least every :meth:`time_to_beat`).

        A beat due within :data:`EARLY` of the period counts as due: a timer may fire a
        little before its time (uvloop's, on libuv's clock of whole milliseconds), and
        a beat put off to the next one would leave a whole watchdog period without one.
        """
        if self.watchdog is None or self.address is None:
            return
        now = self.clock()
        if now >= self._next_beat - EARLY * self.watchdog:
            self._next_beat = now + self.watchdog
            self.send("WATCHDOG=1")

    def time_to_beat(self, longest: float) -> float:
        """Seconds until the next ``WATCHDOG=1`` is due, at most ``longest``."""
        if self.watchdog is None or self.address is None:
            return longest
        return max(0.0, min(longest, self._next_beat - self.clock()))

    def watch(self, loop: asyncio.AbstractEventLoop) -> None:
        """Keep the watchdog fed from ``loop``: a stalled loop stops feeding it."""
        if self.watchdog is None or self.address is None:
            return
        self.beat()
        loop.call_later(self.watchdog, self.watch, loop)

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None


def _watchdog_period(usec: str, watchdog_pid: str) -> float | None:
    if not usec.isdigit() or int(usec) == 0:
        return None
    if watchdog_pid and watchdog_pid != str(os.getpid()):
        return None  # the watchdog is another process's
    return int(usec) / 2e6


# -- socket activation -----------------------------------------------------------------


def activated_sockets(environ: MutableMapping[str, str] | None = None) -> list[socket.socket]:
    """The listening sockets systemd passed to this process (none if it passed none),
    removing the variables that describe them; ConfigError if one is unusable."""
    environ = os.environ if environ is None else environ
    count, pid = environ.pop("LISTEN_FDS", ""), environ.pop("LISTEN_PID", "")
    names = environ.pop("LISTEN_FDNAMES", "")
    if not count:
        return []
    if pid != str(os.getpid()):
        error_log.warning(
            "LISTEN_FDS is for process %s, not this one (%d): ignored (socket activation "
            "needs httpkit started directly, or by exec)",
            pid or "(no LISTEN_PID)",
            os.getpid(),
        )
        return []
    if not count.isdigit() or int(count) == 0:
        raise ConfigError(f"LISTEN_FDS: expected a number of sockets, got {count!r}")
    fds = range(LISTEN_FDS_START, LISTEN_FDS_START + int(count))
    labels = names.split(":") if names and len(names.split(":")) == len(fds) else []
    sockets = [_activated(fd, labels[index] if labels else "") for index, fd in enumerate(fds)]
    server_log.info(
        "socket activation: %d listening socket%s from systemd%s",
        len(sockets),
        "" if len(sockets) == 1 else "s",
        f" ({', '.join(labels)})" if labels else "",
    )
    return sockets


def forget_activation(environ: MutableMapping[str, str] | None = None) -> None:
    """Remove the socket-activation variables, using none of the sockets."""
    environ = os.environ if environ is None else environ
    for name in LISTEN_VARIABLES:
        environ.pop(name, None)


def _activated(fd: int, name: str) -> socket.socket:
    what = f"socket-activated fd {fd}" + (f" ({name})" if name else "")
    try:
        sock = socket.socket(fileno=fd)
    except OSError as error:
        raise ConfigError(f"{what}: {error.strerror or error}") from None
    try:
        listening = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN)
    except OSError:
        listening = 0
    if sock.family not in LISTEN_FAMILIES or sock.type != socket.SOCK_STREAM or not listening:
        sock.detach()  # not ours to close
        raise ConfigError(f"{what}: not a listening TCP or Unix stream socket (use ListenStream=)")
    sock.set_inheritable(False)  # a program the application starts must not hold it
    sock.setblocking(False)
    return sock
