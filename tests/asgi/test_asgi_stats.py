"""Statistics of an ASGI application: its requests run as tasks on the loop, not on
worker threads, whatever --threads says."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
import urllib.request
from typing import Any

import pytest

from httpkit import AsyncServer
from httpkit.server import Server
from httpkit.server.stats import Stats
from httpkit.testing import live_server

Scope = dict[str, Any]


def settled(server: Server, condition: Any) -> Stats:
    deadline = time.monotonic() + 10
    while True:
        stats = server.stats()
        if condition(stats) or time.monotonic() > deadline:
            return stats
        time.sleep(0.01)


def slow_app(release: threading.Event) -> Any:
    async def app(scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        while not release.is_set():
            await asyncio.sleep(0.01)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"done"})

    return app


def test_an_asgi_app_has_no_threads_and_counts_its_running_requests() -> None:
    release = threading.Event()
    with live_server(slow_app(release), threads=4, access_log=False) as live:
        assert live.server.stats().requests_running == 0
        with socket.create_connection(("127.0.0.1", live.port), timeout=10) as client:
            client.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            stats = settled(live.server, lambda s: s.requests_running == 1)
            assert (stats.threads, stats.threads_busy, stats.requests_pending) == (0, 0, 0)
            assert stats.requests_running == 1
            release.set()
            assert client.recv(4096).startswith(b"HTTP/1.1 200 ")
        assert settled(live.server, lambda s: s.requests_running == 0).requests_running == 0


def test_requests_running_is_a_prometheus_gauge() -> None:
    parser = pytest.importorskip("prometheus_client.parser", reason="the metrics extra")
    release = threading.Event()
    app = slow_app(release)
    with live_server(app, access_log=False, metrics_bind="127.0.0.1:0") as live:
        assert live.server.metrics is not None
        host, port = live.server.metrics.addresses[0]
        with socket.create_connection(("127.0.0.1", live.port), timeout=10) as client:
            client.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            settled(live.server, lambda s: s.requests_running == 1)
            with urllib.request.urlopen(f"http://{host}:{port}/metrics", timeout=10) as page:
                text = page.read().decode()
            release.set()
            client.recv(4096)
    found = {
        sample.name: sample.value
        for family in parser.text_string_to_metric_families(text)
        for sample in family.samples
    }
    assert (found["httpkit_requests_running"], found["httpkit_threads"]) == (1, 0)


def test_the_banner_names_the_asgi_interface_not_threads(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def serve() -> None:
        async with AsyncServer(slow_app(threading.Event()), port=0, access_log=False):
            pass

    with caplog.at_level(logging.INFO, logger="httpkit"):
        asyncio.run(serve())
    assert "(interface=asgi, workers=1)" in caplog.text
    assert "threads=" not in caplog.text
