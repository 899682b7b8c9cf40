"""Helpers for testing applications against a real httpkit server.

::

    from httpkit.testing import live_server

    def test_home_page():
        with live_server(app, threads=2) as server:
            response = urllib.request.urlopen(server.url + "/")
            assert response.status == 200

The server listens on 127.0.0.1 and a free port, in a background thread with its own
event loop; leaving the ``with`` block stops it and waits for the thread to end.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from httpkit.asgi.types import ASGIApp
from httpkit.config import Settings
from httpkit.runner import make_server, new_event_loop
from httpkit.server import Server
from httpkit.wsgitypes import WSGIApp

__all__ = ["LiveServer", "live_server"]

START_TIMEOUT = 10.0  # seconds to wait for the server to listen
STOP_TIMEOUT = 10.0


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

    ``settings`` are as for :func:`httpkit.serve`; ``host`` defaults to 127.0.0.1 and
    ``port`` to 0 (a free port).  On leaving, requests in progress get ``grace`` seconds,
    and kept-alive connections between requests are closed after ``drain_grace`` (0.1 s
    here, 1 s for a real server: a test's client sends nothing once the block is left).
    """
    settings.setdefault("port", 0)
    settings.setdefault("drain_grace", 0.1)
    config = Settings(**settings)
    server = make_server(app, config)
    loop = new_event_loop(config.loop)
    started = threading.Event()
    failure: list[BaseException] = []

    def serve_in_thread() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(server.start())
        except BaseException as error:
            failure.append(error)
            started.set()
            loop.close()
            return
        started.set()
        try:
            loop.run_until_complete(server.serve_forever())
        finally:
            loop.close()

    thread = threading.Thread(target=serve_in_thread, name="httpkit-live-server", daemon=True)
    thread.start()
    if not started.wait(START_TIMEOUT):
        raise RuntimeError("the live server did not start in time")
    if failure:
        thread.join(STOP_TIMEOUT)
        raise failure[0]
    address = server.addresses[0]
    if isinstance(address, str):  # a Unix socket: host is its path
        host, port, url = address, 0, "unix:" + address
    else:
        host, port = address
        scheme = "https" if config.certfile else "http"
        url = f"{scheme}://[{host}]:{port}" if ":" in host else f"{scheme}://{host}:{port}"
    try:
        yield LiveServer(host, port, url, config, server)
    finally:
        future = asyncio.run_coroutine_threadsafe(server.shutdown(grace), loop)
        future.result(STOP_TIMEOUT + grace)
        thread.join(STOP_TIMEOUT)
