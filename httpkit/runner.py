"""``httpkit.serve(app, ...)``: run a WSGI application until interrupted."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import sys
import traceback
from collections.abc import Callable
from typing import Any

from httpkit.asgi import is_asgi_app
from httpkit.asgi.types import ASGIApp
from httpkit.config import Settings
from httpkit.errors import ConfigError
from httpkit.reloader import SourceWatcher
from httpkit.server import Server
from httpkit.server.accesslog import compile_format
from httpkit.server.listeners import bind_sockets
from httpkit.server.workers import Supervisor
from httpkit.wsgi import WSGIHandler, load_app
from httpkit.wsgitypes import WSGIApp

__all__ = [
    "make_server",
    "new_event_loop",
    "print_cause",
    "run",
    "run_spec",
    "run_supervised",
    "serve",
]

log = logging.getLogger("httpkit.error")
server_log = logging.getLogger("httpkit.server")  # start-up news, not errors

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

ORPHAN_CHECK = 1.0  # seconds between a worker's checks that its supervisor is alive


def serve(
    app: WSGIApp | ASGIApp, *, host: str | None = None, port: int | None = None, **settings: Any
) -> None:
    """Serve the WSGI (or ASGI) application ``app`` until SIGINT or SIGTERM; blocks.

    ``settings`` are the names on the settings page (``threads=0``, ``max_body=...``);
    an unknown name or a bad value raises :class:`~httpkit.errors.ConfigError`, as does
    an address that cannot be bound.
    """
    if host is not None:
        settings["host"] = host
    if port is not None:
        settings["port"] = port
    run(app, Settings(**settings))


def make_server(app: WSGIApp | ASGIApp, settings: Settings) -> Server:
    """A server (not started) for ``app``: an ASGI application if the ``interface``
    setting says so (or, for ``auto``, if it looks like one), else a WSGI one."""
    interface = settings.interface
    if interface == "asgi" or (interface == "auto" and is_asgi_app(app)):
        from httpkit.asgi.handler import ASGIHandler  # noqa: PLC0415 (WSGI: no ASGI import)

        asgi = ASGIHandler(
            app,  # type: ignore[arg-type]
            settings.url_prefix,
            app_timeout=settings.app_timeout,
            ws_max_message_size=settings.ws_max_message_size,
            ws_per_message_deflate=settings.ws_per_message_deflate,
            ws_ping_interval=settings.ws_ping_interval,
            ws_ping_timeout=settings.ws_ping_timeout,
        )
        return Server(asgi, settings)
    handler = WSGIHandler(
        app,  # type: ignore[arg-type]
        settings.url_prefix,
        multithread=settings.threads > 0,
        multiprocess=settings.workers > 1,
    )
    return Server(handler, settings)


def new_event_loop(kind: str = "auto") -> asyncio.AbstractEventLoop:
    """The event loop the ``loop`` setting asks for: ``auto`` is uvloop when installed."""
    if kind == "asyncio":
        return asyncio.new_event_loop()
    try:
        import uvloop  # noqa: PLC0415 (an optional extra)
    except ImportError:
        if kind == "uvloop":
            raise ConfigError(
                "loop: uvloop is not installed (pip install httpkit[uvloop])"
            ) from None
        return asyncio.new_event_loop()
    loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
    return loop


def configure_logging(settings: Settings) -> None:
    """httpkit's own loggers, never the root one (the application's logging is its own
    business: a root handler would print, say, Django's lines a second time).

    Messages go to stderr at ``log_level`` through a handler on the ``httpkit`` logger,
    unless the application already gave that logger or the root logger handlers: then
    they propagate there.  The access log, when on, goes to ``access_log_file`` or
    stderr as bare lines.
    """
    own = logging.getLogger("httpkit")
    own.setLevel(settings.log_level_number)
    if not own.handlers and not logging.getLogger().handlers:
        console = logging.StreamHandler()
        console.setFormatter(logging.Formatter(LOG_FORMAT))
        own.addHandler(console)
        own.propagate = False
    access = logging.getLogger("httpkit.access")
    if settings.access_log and not access.handlers:
        access.addHandler(_access_handler(settings.access_log_file))
        access.setLevel(logging.INFO)
        access.propagate = False  # the line is complete; another format would wrap it


def _access_handler(path: str | None) -> logging.Handler:
    handler: logging.Handler
    if path is None:
        handler = logging.StreamHandler()
    else:
        try:
            handler = logging.FileHandler(path)
        except OSError as error:
            raise ConfigError(f"access_log_file: {error.strerror or error}") from None
    handler.setFormatter(logging.Formatter("%(message)s"))
    return handler


def run(
    app: WSGIApp | ASGIApp,
    settings: Settings,
    on_started: Callable[[Server], None] | None = None,
    *,
    sockets: list[socket.socket] | None = None,
    banner: bool = True,
) -> None:
    """Start a server for ``app``, serve until SIGINT/SIGTERM, then drain and stop.

    ``sockets`` are listening sockets to serve instead of binding new ones (a worker
    process's, inherited from its supervisor: they are left open and in place).
    """
    configure_logging(settings)
    loop = new_event_loop(settings.loop)
    server = make_server(app, settings)
    # An inherited socket (a worker's, or --fd from systemd) is not ours to unlink.
    server.owns_sockets = sockets is None and settings.fd is None
    try:
        loop.run_until_complete(server.start(sockets))
        if banner:
            log_banner(server.addresses, settings)
        if on_started is not None:
            on_started(server)
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, _on_stop_signal, server)
        # SIGHUP's default action would kill the server mid-request (a "systemctl reload"
        # of a single-process server): say what to do instead.
        loop.add_signal_handler(signal.SIGHUP, _sighup_needs_workers)
        loop.run_until_complete(server.serve_forever())
    finally:
        if not server.draining and server.listeners:
            loop.run_until_complete(server.shutdown(grace=1.0))
        loop.close()


def _on_stop_signal(server: Server) -> None:
    """The first SIGTERM/SIGINT drains; a second one (Ctrl-C again) stops at once."""
    if not server.draining:
        server.loop.create_task(server.shutdown())
    else:
        log.warning("second stop signal: cutting %d connections now", len(server.connections))
        server.cut_connections()


def _sighup_needs_workers() -> None:
    log.warning("SIGHUP ignored: replacing the server's code needs --workers or --reload")


def log_banner(addresses: list[str | tuple[str, int]], settings: Settings) -> None:
    scheme = "https" if settings.certfile else "http"
    for address in addresses:
        where = address if isinstance(address, str) else _url(scheme, *address)
        server_log.info(
            "httpkit serving on %s (threads=%d, workers=%d)",
            where,
            settings.threads,
            settings.workers,
        )


def run_spec(spec: str, settings: Settings) -> int:
    """Serve the application ``spec`` (MODULE:APP) as the settings say: in this process,
    or in supervised worker processes (``workers`` > 1 or ``reload``) that each load it."""
    if settings.workers == 1 and not settings.reload:
        run(load_app(spec), settings)
        return 0
    return run_supervised(lambda: load_app(spec), settings)


def run_supervised(load: Callable[[], WSGIApp], settings: Settings) -> int:
    """Bind, then serve in supervised worker processes that each call ``load()`` for the
    application (after the fork: a replaced worker loads the code as it is now)."""
    if not hasattr(os, "fork"):
        raise ConfigError("workers and reload: this platform cannot fork worker processes")
    configure_logging(settings)
    compile_format(settings.access_log_format)  # a bad format stops us before binding
    sockets = bind_sockets(settings)

    supervisor_pid = os.getpid()

    def worker_main(inherited: list[socket.socket], ready: Callable[[], None]) -> int:
        try:
            app = load()
        except ConfigError as error:
            print_cause(error, settings)
            print(f"httpkit: error: {error}", file=sys.stderr)
            return 2

        def started(server: Server) -> None:
            ready()
            _stop_when_orphaned(server, supervisor_pid)

        try:
            run(app, settings, started, sockets=inherited, banner=False)
        except ConfigError as error:  # the application's startup failed (lifespan)
            print(f"httpkit: error: {error}", file=sys.stderr)
            return 2
        return 0

    supervisor = Supervisor(
        worker_main,
        sockets,
        settings.workers,
        settings.graceful_timeout,
        changed=SourceWatcher(os.getcwd()) if settings.reload else None,
        stop_listening=lambda: _close_all(sockets, unlink=settings.fd is None),
    )
    addresses = [_address_of(sock) for sock in sockets]
    try:
        return supervisor.run(on_ready=lambda: log_banner(addresses, settings))
    finally:
        for sock in sockets:
            _close_listening(sock, unlink=settings.fd is None)


def print_cause(error: ConfigError, settings: Settings) -> None:
    """At ``log_level`` debug, the traceback of what caused ``error`` (an application
    that raised while loading), on stderr before its one-line message."""
    cause = error.__cause__
    if cause is not None and settings.log_level == "debug":
        traceback.print_exception(cause, file=sys.stderr)


def _stop_when_orphaned(server: Server, supervisor_pid: int) -> None:
    """A worker whose supervisor was killed (SIGKILL: no chance to stop it) drains and
    exits rather than serving on, unsupervised, forever."""
    if os.getppid() != supervisor_pid:
        server.loop.create_task(server.shutdown())
        return
    server.loop.call_later(ORPHAN_CHECK, _stop_when_orphaned, server, supervisor_pid)


def _address_of(sock: socket.socket) -> str | tuple[str, int]:
    name = sock.getsockname()
    return (name[0], name[1]) if isinstance(name, tuple) else str(name)


def _close_all(sockets: list[socket.socket], unlink: bool) -> None:
    for sock in sockets:
        _close_listening(sock, unlink)


def _close_listening(sock: socket.socket, unlink: bool) -> None:
    if sock.fileno() < 0:
        return  # closed already (the supervisor stops listening first when stopping)
    if unlink and sock.family == socket.AF_UNIX:
        with contextlib.suppress(OSError):
            os.unlink(sock.getsockname())
    sock.close()


def _url(scheme: str, host: str, port: int) -> str:
    return f"{scheme}://[{host}]:{port}" if ":" in host else f"{scheme}://{host}:{port}"
