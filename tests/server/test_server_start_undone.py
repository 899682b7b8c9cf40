"""A start that fails or is called off part-way leaves nothing behind: no listener, no
thread, and the ASGI lifespan either never started or was shut down."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from typing import Any

import pytest

import httpkit
from httpkit.errors import ConfigError


class LifespanApp:
    """An ASGI application whose lifespan startup takes ``startup`` seconds; it records
    the lifespan messages it receives and the replies it completes."""

    def __init__(self, startup: float = 0.0) -> None:
        self.startup = startup
        self.events: list[str] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                self.events.append(message["type"])
                if message["type"] == "lifespan.startup":
                    await asyncio.sleep(self.startup)
                await send({"type": message["type"] + ".complete"})
                self.events.append(message["type"] + ".complete")
                if message["type"] == "lifespan.shutdown":
                    return
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"up"})


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def refuses_connections(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except ConnectionRefusedError:
        return True
    return False


def server_threads() -> list[str]:
    return [thread.name for thread in threading.enumerate() if thread.name == "httpkit-server"]


def test_a_metrics_address_in_use_leaves_nothing_listening_and_no_lifespan() -> None:
    app = LifespanApp()
    port = free_port()

    async def program() -> None:
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            metrics = f"127.0.0.1:{taken.getsockname()[1]}"
            server = httpkit.AsyncServer(app, port=port, metrics_bind=metrics, threads=2)
            with pytest.raises(ConfigError, match="metrics_bind: cannot listen on"):
                await server.start()
            assert refuses_connections(port)
            assert app.events == []  # refused before the application started
            await server.stop()  # nothing to stop
        # Everything was let go: the same server starts now, on the same port.
        async with server:
            assert server.port == port
            assert not refuses_connections(port)
        assert app.events[-1] == "lifespan.shutdown.complete"

    asyncio.run(program())


def test_a_start_cancelled_during_the_lifespan_startup_closes_the_listener() -> None:
    app = LifespanApp(startup=10.0)
    port = free_port()

    async def program() -> None:
        server = httpkit.AsyncServer(app, port=port)
        starting = asyncio.ensure_future(server.start())
        while app.events != ["lifespan.startup"]:
            await asyncio.sleep(0.01)
        starting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await starting
        assert refuses_connections(port)
        await asyncio.sleep(0)  # the lifespan task sees its cancellation
        assert app.events == ["lifespan.startup"]  # never completed, never shut down

    asyncio.run(program())


def test_a_background_start_slower_than_startup_timeout_is_called_off() -> None:
    app = LifespanApp(startup=1.5)
    port = free_port()
    began = time.monotonic()
    with pytest.raises(RuntimeError, match=r"did not start within 0.3 s \(startup_timeout\)"):
        httpkit.BackgroundServer(app, port=port, startup_timeout=0.3).start()
    assert time.monotonic() - began < 1.4  # called off, not waited out
    assert server_threads() == []  # the thread ended before start() raised
    time.sleep(1.5)  # past the startup that would have finished: nothing came up
    assert refuses_connections(port)
    assert app.events == ["lifespan.startup"]


def test_a_background_start_within_startup_timeout_serves() -> None:
    app = LifespanApp(startup=0.3)
    with httpkit.serving(app, port=0, startup_timeout=20) as server:
        assert not refuses_connections(server.port)
    assert app.events[-1] == "lifespan.shutdown.complete"
    assert server_threads() == []
