"""Streaming both ways: bodies read as they arrive, responses sent as produced, bounded memory."""

from __future__ import annotations

import http.client
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from server_helpers import RawClient, Serve, hello_app

from httpkit.testing import live_server

MiB = 1024 * 1024


def rss_bytes() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


class PeakRss:
    """Samples this process's resident memory in the background."""

    def __init__(self) -> None:
        self.start = rss_bytes()
        self.peak = self.start
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.wait(0.01):
            self.peak = max(self.peak, rss_bytes())

    def growth(self) -> int:
        self._stop.set()
        self._thread.join(1)
        return self.peak - self.start


def test_chunked_upload_is_read_as_it_arrives(raw_client: Any) -> None:
    def incremental_app(environ: dict[str, Any], start_response: Any) -> Any:
        stream = environ["wsgi.input"]
        first = stream.read(5)
        write = start_response("200 OK", [("Content-Type", "text/plain")])
        write(b"got " + first + b";")  # before the client has sent the rest
        rest = stream.read()
        return [b"rest " + rest]

    with live_server(incremental_app, threads=2) as server:
        client: RawClient = raw_client(server.port)
        client.send(b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        client.send(b"5\r\nhello\r\n")
        client.read_until(b"\r\n\r\n")
        assert b"got hello;" in client.read_until(b"got hello;")
        client.send(b"6\r\n world\r\n0\r\n\r\n")
        assert b"rest  world" in client.read_until(b"0\r\n\r\n")


def test_expect_continue_is_sent_on_first_read_only(raw_client: Any) -> None:
    reading = threading.Event()

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        time.sleep(0.2)
        reading.set()
        body = environ["wsgi.input"].read()
        start_response("200 OK", [])
        return [body]

    with live_server(app, threads=2) as server:
        client: RawClient = raw_client(server.port)
        client.send(
            b"PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n"
        )
        assert client.read_until(b"\r\n\r\n") == b"HTTP/1.1 100 Continue\r\n\r\n"
        assert reading.is_set()  # the 100 came when the app read, not when the head came
        client.send(b"ok")
        assert client.read_response()[2] == b"ok"


def test_response_pieces_leave_as_they_are_produced(serve: Serve, threads: int) -> None:
    if threads == 0:
        pytest.skip("inline, a sleeping app blocks the loop; streaming is timed in threads")
    gate = threading.Event()

    def app(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        yield b"early"
        gate.wait(5)
        yield b"late"

    with serve(app) as server:
        client = RawClient(server.port)
        client.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        client.read_until(b"\r\n\r\n")
        assert b"early" in client.read_until(b"early")  # while the app is still waiting
        gate.set()
        assert b"late" in client.read_until(b"0\r\n\r\n")
        client.close()


def upload(port: int, total: int) -> bytes:
    piece = b"u" * MiB
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def body() -> Iterator[bytes]:
        for _ in range(total // MiB):
            yield piece

    connection.request("PUT", "/", body=body(), headers={"Content-Length": str(total)})
    data = connection.getresponse().read()
    connection.close()
    return data


def test_large_upload_and_download_keep_memory_flat(serve: Serve) -> None:
    total = 256 * MiB

    def counting_app(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
        stream = environ["wsgi.input"]
        received = 0
        while block := stream.read(65536):
            received += len(block)
        start_response("200 OK", [("Content-Length", str(total))])
        piece = b"d" * 65536
        for _ in range(total // len(piece)):
            yield piece
        yield str(received).encode()[:0]

    with serve(counting_app, max_body=total) as server:
        memory = PeakRss()
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        connection.request(
            "PUT",
            "/",
            body=iter([b"u" * MiB] * (total // MiB)),
            headers={"Content-Length": str(total)},
        )
        response = connection.getresponse()
        downloaded = 0
        while block := response.read(MiB):
            downloaded += len(block)
        connection.close()
        growth = memory.growth()
    assert downloaded == total
    assert growth < 48 * MiB, f"memory grew by {growth / MiB:.0f} MiB"


def test_client_gone_mid_download_closes_the_body(serve: Serve) -> None:
    closed = threading.Event()

    class Endless:
        def __iter__(self) -> Iterator[bytes]:
            for _ in range(1_000_000):
                yield b"z" * 16384

        def close(self) -> None:
            closed.set()

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        start_response("200 OK", [])
        return [b"ok"] if environ["PATH_INFO"] == "/ok" else Endless()

    with serve(app) as server:
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        sock.recv(100_000)
        sock.close()
        assert closed.wait(5)
        assert timed_ok(server.port)
        wait_for_no_connections(server)


def test_client_gone_mid_upload_closes_the_body(serve: Serve, threads: int) -> None:
    closed = threading.Event()
    called = threading.Event()

    def app(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
        called.set()
        try:
            environ["wsgi.input"].read()
            start_response("200 OK", [])
            yield b"unexpected"
        finally:
            closed.set()

    with serve(app) as server:
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n")
        sock.sendall(b"a" * 5000)
        time.sleep(0.1)
        sock.close()
        if threads:
            assert closed.wait(5)  # the read failed, the generator was closed
        else:
            time.sleep(0.2)
            assert not called.is_set()  # inline: the app never saw a half body
        assert timed_ok(server.port)
        wait_for_no_connections(server)


def timed_ok(port: int) -> bool:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    connection.request("GET", "/ok")
    response = connection.getresponse()
    response.read()
    connection.close()
    return response.status in (200, 500)


def wait_for_no_connections(server: Any) -> None:
    deadline = time.monotonic() + 5
    while server.server.connections and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not server.server.connections, "a connection leaked"
    assert server.server.open_count == 0


def test_live_server_stops_cleanly_with_requests_in_flight() -> None:
    with live_server(hello_app, threads=2) as server:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
        connection.request("GET", "/")
        connection.getresponse().read()
    threads = [thread.name for thread in threading.enumerate()]
    assert not any(name.startswith("httpkit") for name in threads), threads


def test_reading_a_large_body_in_one_call(serve: Serve) -> None:
    total = 8 * MiB  # far above the buffer at which the server pauses the socket

    def read_all_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        body = environ["wsgi.input"].read()
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [str(len(body)).encode(), b" ", str(body.count(b"u")).encode()]

    with serve(read_all_app, max_body=total) as server:
        started = time.monotonic()
        assert upload(server.port, total) == f"{total} {total}".encode()
        assert time.monotonic() - started < 5


@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
def test_endless_inline_body_stops_as_soon_as_the_client_is_gone(
    loop: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A closing transport drops writes without pausing; the loop must not spin on."""
    pytest.importorskip(loop)
    closed = threading.Event()
    pieces = 0

    class Endless:
        def __iter__(self) -> Iterator[bytes]:
            nonlocal pieces
            while True:
                pieces += 1
                yield b"z" * 16384

        def close(self) -> None:
            closed.set()

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        start_response("200 OK", [])
        return Endless()

    with live_server(app, threads=0, loop=loop) as server:
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        sock.recv(100_000)
        sock.close()
        assert closed.wait(5)
    assert pieces < 10_000  # stopped, not run until the transport's loss was noticed
    assert "socket.send() raised exception" not in caplog.text
