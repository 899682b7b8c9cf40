"""The process around a server: what stop signals do to it, and what systemd hears.

:func:`httpkit.runner.run` serves one server per process, alone or as one worker of a
supervisor (:mod:`httpkit.server.workers`); this module is the part of it that speaks
to the outside world: the stop rule of :mod:`httpkit.server.stopping` applied to
``SIGTERM``/``SIGINT``/``SIGQUIT``, ``READY=1``/``STOPPING=1`` and the watchdog for
systemd, and the sockets systemd passed (``LISTEN_FDS``).
"""

from __future__ import annotations

import asyncio
import logging
import signal
import socket

from httpkit.config import Settings
from httpkit.server import Server
from httpkit.server.stopping import STOP_SIGNALS, StopAction, StopRule, drain_message
from httpkit.server.systemd import Notifier, activated_sockets, forget_activation
from httpkit.server.workers import WorkerLink

__all__ = ["ServiceSignals", "start_until_stopped", "systemd_sockets"]

error_log = logging.getLogger("httpkit.error")
server_log = logging.getLogger("httpkit.server")


class ServiceSignals:
    """Stop signals for a server that is a whole process (``worker`` None) or one worker.

    Alone, the server follows the stop rule itself and says once that it drains.  As a
    worker it drains on every ``SIGTERM``/``SIGINT`` (the second one of a Ctrl-C to the
    process group is its supervisor's forward), tells its supervisor how many requests
    are in flight, and cuts only on ``SIGQUIT``: the supervisor decides.
    """

    def __init__(self, server: Server, notifier: Notifier, worker: WorkerLink | None) -> None:
        self.server = server
        self.notifier = notifier
        self.worker = worker
        self.rule = StopRule(repeat_cuts=worker is None)

    def install(self, loop: asyncio.AbstractEventLoop) -> None:
        for signum in STOP_SIGNALS:
            loop.add_signal_handler(signum, self.stop, signum)
        if self.worker is None:
            # SIGHUP's default action would kill the server mid-request (a "systemctl
            # reload" of a single-process server): say what to do instead.  A worker
            # leaves SIGHUP to its supervisor.
            loop.add_signal_handler(signal.SIGHUP, _sighup_needs_workers)

    def stop(self, signum: int) -> None:
        action = self.rule.decide(signum)
        server = self.server
        if action is StopAction.DRAIN:
            self._drain_begins(server.requests_in_flight())
            server.loop.create_task(server.shutdown())
        elif action is StopAction.CUT:
            if self.worker is None:  # a worker's supervisor has said it
                why = "second stop signal" if server.draining else signal.Signals(signum).name
                error_log.warning("%s: cutting %d connections now", why, len(server.connections))
            if not server.draining:  # SIGQUIT first: no drain to wait for
                self.notifier.stopping()
                server.loop.create_task(server.shutdown(grace=0.0))
            server.cut_connections()
        else:
            server_log.debug("%s again: the stop under way", signal.Signals(signum).name)

    def _drain_begins(self, in_flight: int) -> None:
        if self.worker is not None:
            self.worker.draining(in_flight)  # the supervisor says it, once for all
            return
        self.notifier.stopping()
        grace = self.server.settings.graceful_timeout
        server_log.info("%s", drain_message(in_flight, grace))


async def start_until_stopped(
    server: Server, sockets: list[socket.socket] | None, worker: WorkerLink | None
) -> bool:
    """Start ``server`` (:meth:`Server.start`) unless a stop signal calls the start-up
    off (a slow application startup): True once started, False if called off.

    The handlers are installed before the start-up, on the running loop (a signal that
    comes while the loop is not running is lost on uvloop); :class:`ServiceSignals`
    replaces them once the server accepts.  The start undoes what it had begun: the
    listeners close, and the application's shutdown runs if its startup had finished.
    """
    loop = asyncio.get_running_loop()
    starting = loop.create_task(server.start(sockets))
    stops: list[int] = []

    def stop(signum: int) -> None:
        if stops:  # the start-up is being called off already
            return
        stops.append(signum)
        if worker is None:  # a worker's supervisor speaks for it
            name = signal.Signals(signum).name
            server_log.info("stopping: %s during the start-up; calling it off", name)
        starting.cancel()

    for signum in STOP_SIGNALS:
        loop.add_signal_handler(signum, stop, signum)
    try:
        await starting
    except asyncio.CancelledError:
        if stops and not _cancelling(asyncio.current_task()):
            return False
        raise
    if stops:  # the signal came as the start finished: stop what it started
        await server.shutdown(grace=0.0)
        return False
    return True


def _cancelling(task: asyncio.Task[object] | None) -> bool:
    """Whether ``task`` itself is being cancelled (not only what it awaited)."""
    cancelling = getattr(task, "cancelling", None)  # Python 3.11+
    return bool(cancelling()) if cancelling is not None else False


def _sighup_needs_workers() -> None:
    error_log.warning("SIGHUP ignored: replacing the server's code needs --workers or --reload")


def systemd_sockets(settings: Settings) -> list[socket.socket] | None:
    """The listening sockets systemd passed (``LISTEN_FDS``), or None to bind our own.

    ``fd`` picks one of them itself (``--fd 3``, the older way): then the others are
    left alone, and the variables describing them are removed all the same.
    """
    if settings.fd is not None:
        forget_activation()
        return None
    return activated_sockets() or None
