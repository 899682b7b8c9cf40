"""``httpkit.serve(app, ...)``: run a WSGI application until interrupted."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable
from typing import Any

from httpkit.config import Settings
from httpkit.errors import ConfigError
from httpkit.server import Server
from httpkit.wsgi import WSGIApp, WSGIHandler

__all__ = ["make_server", "new_event_loop", "run", "serve"]

log = logging.getLogger("httpkit.error")


def serve(
    app: WSGIApp, *, host: str | None = None, port: int | None = None, **settings: Any
) -> None:
    """Serve the WSGI application ``app`` until SIGINT or SIGTERM; blocks.

    ``settings`` are the names on the settings page (``threads=0``, ``max_body=...``);
    an unknown name or a bad value raises :class:`~httpkit.errors.ConfigError`, as does
    an address that cannot be bound.
    """
    if host is not None:
        settings["host"] = host
    if port is not None:
        settings["port"] = port
    run(app, Settings(**settings))


def make_server(app: WSGIApp, settings: Settings) -> Server:
    """A server (not started) for the WSGI application ``app``."""
    handler = WSGIHandler(app, settings.url_prefix, multithread=settings.threads > 0)
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
    """Messages to stderr at ``log_level``, unless the application configured logging."""
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpkit").setLevel(settings.log_level_number)


def run(
    app: WSGIApp, settings: Settings, on_started: Callable[[Server], None] | None = None
) -> None:
    """Start a server for ``app``, serve until SIGINT/SIGTERM, then shut down."""
    configure_logging(settings)
    loop = new_event_loop(settings.loop)
    server = make_server(app, settings)
    try:
        loop.run_until_complete(server.start())
        for address in server.addresses:
            where = address if isinstance(address, str) else _url(*address)
            log.warning("httpkit serving on %s (threads=%d)", where, settings.threads)
        if on_started is not None:
            on_started(server)
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, lambda: loop.create_task(server.shutdown()))
        loop.run_until_complete(server.serve_forever())
    finally:
        if not server.draining and server.listeners:
            loop.run_until_complete(server.shutdown(grace=1.0))
        loop.close()


def _url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
