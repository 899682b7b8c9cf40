"""``httpkit.serve(app, ...)``: run a WSGI application until interrupted."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import sys
import threading
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
from httpkit.server.contract import is_async_handler
from httpkit.server.listeners import bind_sockets, bind_tcp
from httpkit.server.metrics import StatsShare
from httpkit.server.systemd import Notifier
from httpkit.server.workers import Supervisor, WorkerLink
from httpkit.service import ServiceSignals, start_until_stopped, systemd_sockets
from httpkit.wsgi import WSGIHandler, load_app
from httpkit.wsgi.loader import check_wsgi_callable, factory_hint
from httpkit.wsgitypes import WSGIApp

__all__ = [
    "make_server",
    "new_event_loop",
    "print_cause",
    "run",
    "run_spec",
    "run_supervised",
    "serve",
    "url_of",
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
    _check_serve_can_block()
    if host is not None:
        settings["host"] = host
    if port is not None:
        settings["port"] = port
    run(app, Settings(**settings))


def _check_serve_can_block() -> None:
    """serve() blocks until a stop signal, which only the main thread can receive, and
    runs its own event loop: refuse, before binding, where neither can work."""
    if threading.current_thread() is not threading.main_thread():
        raise RuntimeError(
            "httpkit.serve() runs until SIGINT or SIGTERM, which only the main thread "
            "receives; from another thread use httpkit.serving(app, ...), which returns "
            "once the server listens and stops it when its with block ends"
        )
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return  # no loop running here: serve() may run its own
    raise RuntimeError(
        "httpkit.serve() blocks, and this thread runs an event loop; inside it use "
        "async with httpkit.AsyncServer(app, ...)"
    )


def make_server(app: WSGIApp | ASGIApp, settings: Settings) -> Server:
    """A server (not started) for ``app``: an ASGI application if the ``interface``
    setting says so (or, for ``auto``, if it looks like one), else a WSGI one."""
    if _serves_as_asgi(app, settings):
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
    name = getattr(app, "__qualname__", None) or type(app).__qualname__
    check_wsgi_callable(app, name, factory_hint=f"did you mean to pass {name}()?")
    handler = WSGIHandler(
        app,  # type: ignore[arg-type]
        settings.url_prefix,
        multithread=settings.threads > 0,
        multiprocess=settings.workers > 1,
    )
    return Server(handler, settings)


def _serves_as_asgi(app: object, settings: Settings) -> bool:
    interface = settings.interface
    return interface == "asgi" or (interface == "auto" and is_asgi_app(app))


def load_served_app(spec: str, settings: Settings) -> WSGIApp | ASGIApp:
    """The application ``spec`` names, refused at once if it can be neither the ASGI
    application the settings let it be nor a WSGI one (a factory named without ``()``)."""
    app = load_app(spec, check=False)
    if not _serves_as_asgi(app, settings):
        check_wsgi_callable(app, spec, factory_hint=factory_hint(spec))
    return app  # type: ignore[no-any-return]


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
    worker: WorkerLink | None = None,
    stats_share: StatsShare | None = None,
) -> None:
    """Start a server for ``app``, serve until SIGINT/SIGTERM, then drain and stop.

    ``sockets`` are listening sockets to serve instead of binding new ones (a worker
    process's, inherited from its supervisor: they are left open and in place); without
    them, those systemd passed (``LISTEN_FDS``) are served if any.  ``worker`` is the
    link to the supervisor, in a worker process; ``stats_share`` the directory where the
    workers add up their statistics for ``metrics_bind``.
    """
    configure_logging(settings)
    loop = new_event_loop(settings.loop)
    server = make_server(app, settings)
    # Read (and removed from the environment) in the process systemd started, only.
    notifier = Notifier.from_environ() if worker is None else Notifier()
    # An inherited socket (a worker's, or from systemd) is not ours to unlink.
    server.owns_sockets = sockets is None and settings.fd is None
    if sockets is None:
        sockets = systemd_sockets(settings)
        server.owns_sockets = server.owns_sockets and sockets is None
    server.stats_share = stats_share

    async def serve_until_stopped(listening: list[socket.socket] | None) -> None:
        # One coroutine from start to stop: a signal that comes while the loop is not
        # running is lost on uvloop, so the loop runs before anyone is told we listen,
        # and the stop signals are handled from the start-up on (a slow lifespan).
        if not await start_until_stopped(server, listening, worker):
            return
        ServiceSignals(server, notifier, worker).install(loop)
        if banner:
            log_banner(server.addresses, settings, server)
            if server.metrics is not None:
                log_metrics(server.metrics.addresses[0])
        if on_started is not None:
            on_started(server)
        notifier.ready(f"serving on {_where(server.addresses[0], settings)}")
        notifier.watch(loop)
        await server.serve_forever()

    try:
        loop.run_until_complete(serve_until_stopped(sockets))
    finally:
        if not server.draining and server.listeners:
            loop.run_until_complete(server.shutdown(grace=1.0))
        loop.close()
        notifier.close()


def log_banner(
    addresses: list[str | tuple[str, int]], settings: Settings, server: Server | None = None
) -> None:
    """The "serving on" lines.  An ASGI application (``server``'s handler, or the
    ``interface`` setting when the application is not loaded here) runs as tasks on the
    loop: the banner says so rather than naming threads it does not use."""
    handler = server.handler if server is not None else None
    asgi = is_async_handler(handler) if handler is not None else settings.interface == "asgi"
    how = "interface=asgi" if asgi else f"threads={settings.threads}"
    for address in addresses:
        server_log.info(
            "httpkit serving on %s (%s, workers=%d)",
            _where(address, settings),
            how,
            settings.workers,
        )


def log_metrics(address: str | tuple[str, int]) -> None:
    server_log.info("httpkit metrics on %s/metrics", url_of(address))


def _where(address: str | tuple[str, int], settings: Settings) -> str:
    scheme = "https" if settings.certfile else "http"
    return address if isinstance(address, str) else _url(scheme, *address)


def run_spec(spec: str, settings: Settings) -> int:
    """Serve the application ``spec`` (MODULE:APP) as the settings say: in this process,
    or in supervised worker processes (``workers`` > 1 or ``reload``) that each load it."""
    if settings.workers == 1 and not settings.reload:
        run(load_served_app(spec, settings), settings)
        return 0
    return run_supervised(lambda: load_served_app(spec, settings), settings)


def run_supervised(load: Callable[[], WSGIApp | ASGIApp], settings: Settings) -> int:
    """Bind, then serve in supervised worker processes that each call ``load()`` for the
    application (after the fork: a replaced worker loads the code as it is now)."""
    if not hasattr(os, "fork"):
        raise ConfigError("workers and reload: this platform cannot fork worker processes")
    configure_logging(settings)
    compile_format(settings.access_log_format)  # a bad format stops us before binding
    notifier = Notifier.from_environ()  # the supervisor speaks to systemd, not the workers
    activated = systemd_sockets(settings)
    sockets = activated if activated is not None else bind_sockets(settings)
    unlink = activated is None and settings.fd is None  # systemd's socket files stay
    # The workers share one metrics listener, and add up each other's figures.
    share = StatsShare.create(settings, bind_tcp) if settings.metrics_bind else None

    supervisor_pid = os.getpid()

    def worker_main(inherited: list[socket.socket], link: WorkerLink) -> int:
        try:
            app = load()
        except ConfigError as error:
            print_cause(error, settings)
            print(f"httpkit: error: {error}", file=sys.stderr)
            return 2

        def started(server: Server) -> None:
            link.ready()
            _stop_when_orphaned(server, supervisor_pid)

        try:
            run(
                app,
                settings,
                started,
                sockets=inherited,
                banner=False,
                worker=link,
                stats_share=share,
            )
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
        stop_listening=lambda: _close_all(sockets, unlink=unlink),
        notifier=notifier,
        startup_timeout=settings.startup_timeout,
    )
    addresses = [_address_of(sock) for sock in sockets]

    def ready() -> None:
        log_banner(addresses, settings)
        if share is not None:
            log_metrics(_address_of(share.sock))

    try:
        workers = f"{settings.workers} worker{'s' if settings.workers > 1 else ''}"
        return supervisor.run(
            on_ready=ready,
            systemd_status=f"serving on {_where(addresses[0], settings)} ({workers})",
        )
    finally:
        for sock in sockets:
            _close_listening(sock, unlink=unlink)
        if share is not None:
            share.close()
        notifier.close()


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


def url_of(address: str | tuple[str, int], scheme: str = "http") -> str:
    """A listening address as a URL without a trailing slash: ``http://127.0.0.1:8000``,
    ``http://[::1]:8000``, or ``unix:PATH`` for a Unix socket."""
    return "unix:" + address if isinstance(address, str) else _url(scheme, *address)
