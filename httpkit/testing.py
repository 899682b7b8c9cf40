"""Helpers for testing applications against a real httpkit server.

::

    from httpkit.testing import live_server

    def test_home_page():
        with live_server(app, threads=2) as server:
            response = urllib.request.urlopen(server.url + "/")
            assert response.status == 200

The server listens on 127.0.0.1 and a free port, in a background thread with its own
event loop (a :class:`httpkit.BackgroundServer`); leaving the ``with`` block stops it
and waits for the thread to end.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from httpkit.asgi.types import ASGIApp
from httpkit.config import Settings
from httpkit.embed import BackgroundServer
from httpkit.server import Server
from httpkit.wsgitypes import WSGIApp

__all__ = ["LiveServer", "live_server"]


@dataclass(frozen=True)
class LiveServer:
    """A running server: where it listens and its settings."""

    host: str
    port: int
    url: str  # "http://127.0.0.1:PORT" (https with certfile; no trailing slash), or "unix:PATH"
    settings: Settings
    server: Server


@contextmanager
def live_server(
    app: WSGIApp | ASGIApp, *, grace: float = 2.0, **settings: Any
) -> Iterator[LiveServer]:
    """Serve ``app`` on a free port for the duration of the ``with`` block.

    ``settings`` are as for :func:`httpkit.serving`; ``host`` defaults to 127.0.0.1 and
    ``port`` to 0 (a free port).  On leaving, requests in progress get ``grace`` seconds,
    and kept-alive connections between requests are closed after ``drain_grace`` (0.1 s
    here, 1 s for a real server: a test's client sends nothing once the block is left).
    """
    settings.setdefault("port", 0)
    settings.setdefault("drain_grace", 0.1)
    background = BackgroundServer(app, **settings)
    background.start()
    address = background.addresses[0]
    host, port = (address, 0) if isinstance(address, str) else address  # a Unix socket: its path
    try:
        yield LiveServer(host, port, background.url, background.settings, background.core)
    finally:
        background.stop(grace)
