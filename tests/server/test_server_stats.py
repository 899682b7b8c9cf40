"""server.stats(): the figures counted exactly, through a real server and raw clients."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from server_helpers import Serve

import httpkit
from httpkit.server.metrics import StatsShare
from httpkit.server.stats import Stats

HELLO = b"Hello, world!"


def hello(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    environ["wsgi.input"].read()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "13")])
    return [HELLO]


def failing(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    raise RuntimeError("the application fails")


def read_responses(sock: socket.socket, count: int) -> bytes:
    """``count`` responses to GET /, each ending with the hello body."""
    received = b""
    while received.count(HELLO) < count:
        piece = sock.recv(65536)
        assert piece, "closed early"
        received += piece
    return received


def settled(server: Any, check: Callable[[Stats], bool]) -> Stats:
    """The stats once ``check`` holds (a closed connection is folded in on the loop)."""
    deadline = time.monotonic() + 5
    while True:
        stats: Stats = server.stats()
        if check(stats) or time.monotonic() > deadline:
            return stats
        time.sleep(0.01)


def test_requests_and_bytes_are_counted_exactly(serve: Serve, threads: int) -> None:
    request = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
    posted = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
    with serve(hello) as live:
        server = live.server
        assert server.stats().requests_total == 0
        sent = received = b""
        with socket.create_connection(("127.0.0.1", live.port), timeout=5) as sock:
            for _ in range(7):  # keep-alive: one connection, seven requests and a POST
                sock.sendall(request)
                sent += request
                received += read_responses(sock, 1)
            sock.sendall(posted)
            sent += posted
            received += read_responses(sock, 1)
            open_stats = server.stats()
            assert (open_stats.connections, open_stats.requests_total) == (1, 8)
            assert open_stats.bytes_in == len(sent)
            assert open_stats.bytes_out == len(received)
        stats = settled(server, lambda s: s.connections == 0)
    assert stats.requests_total == 8
    assert (stats.connections, stats.connections_total) == (0, 1)
    assert (stats.bytes_in, stats.bytes_out) == (len(sent), len(received))
    assert stats.responses_by_server == {}
    assert stats.threads == threads


def test_responses_the_server_made_itself_are_counted_by_status(serve: Serve) -> None:
    cases = [
        b"GET / HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n",  # 400
        b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",  # 414
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2000\r\n\r\n",  # 413
    ]
    with serve(hello, max_body=1000) as live:
        total_out = 0
        for data in cases:
            with socket.create_connection(("127.0.0.1", live.port), timeout=5) as sock:
                sock.sendall(data)
                sock.shutdown(socket.SHUT_WR)
                while piece := sock.recv(65536):
                    total_out += len(piece)
        stats = settled(live.server, lambda s: s.connections == 0)
    assert stats.responses_by_server == {400: 1, 413: 1, 414: 1}
    assert stats.requests_total == 3
    assert stats.bytes_in == sum(map(len, cases))
    assert stats.bytes_out == total_out


def test_a_failing_application_is_a_500_the_server_made(serve: Serve) -> None:
    with serve(failing) as live:
        with socket.create_connection(("127.0.0.1", live.port), timeout=5) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            assert sock.recv(65536).startswith(b"HTTP/1.1 500")
        stats = settled(live.server, lambda s: s.connections == 0)
    assert (stats.responses_by_server, stats.requests_total) == ({500: 1}, 1)


def test_busy_threads_and_pending_requests(serve: Serve) -> None:
    release = threading.Event()

    def slow(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        release.wait(10)
        return hello(environ, start_response)

    with serve(slow, threads=1) as live:
        socks = [socket.create_connection(("127.0.0.1", live.port), timeout=10) for _ in "ab"]
        try:
            for sock in socks:
                sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            stats = settled(live.server, lambda s: s.requests_pending == 1)
            assert (stats.threads, stats.threads_busy, stats.requests_pending) == (1, 1, 1)
            assert stats.requests_running == 1  # the busy thread's; the queued one waits
            assert stats.connections == 2
            release.set()
            for sock in socks:
                read_responses(sock, 1)
            stats = settled(live.server, lambda s: s.threads_busy == 0)
            assert (stats.threads_busy, stats.requests_pending, stats.requests_total) == (0, 0, 2)
        finally:
            release.set()
            for sock in socks:
                sock.close()


def test_a_dead_workers_figures_count_as_stopped(tmp_path: Path) -> None:
    figures = Stats(2, 9, 4, 3, 1, 40, {400: 2}, 1000, 5000)
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    (tmp_path / f"{gone.stdout.strip()}.json").write_text(json.dumps(figures.as_dict()))
    with socket.socket() as sock:
        share = StatsShare(str(tmp_path), sock)
        share.publish(figures)  # this process's own file is not among the others
        [dead] = share.others()
    assert dead == Stats(0, 9, 0, 0, 0, 40, {400: 2}, 1000, 5000)
    assert (dead + figures).requests_total == 80


def test_the_embedding_api_gives_the_stats() -> None:
    with httpkit.serving(hello, port=0) as server:
        for _ in range(3):
            with urllib.request.urlopen(server.url + "/") as response:
                assert response.read() == HELLO
        stats = server.stats()
    assert (stats.requests_total, stats.responses_by_server) == (3, {})
