"""Streaming both ways: bodies read as they arrive, responses sent as produced, bounded memory."""

from __future__ import annotations

import functools
import hashlib
import http.client
import socket
import struct
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from server_helpers import RawClient, Serve

from httpkit.errors import ProtocolError
from httpkit.server import ClientDisconnectedError
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


def numbered_pieces(count: int, size: int) -> Iterator[bytes]:
    """``count`` pieces of ``size`` bytes, each starting with its index: a piece lost,
    repeated or out of order changes the digest."""
    filler = b"x" * (size - 8)
    for index in range(count):
        yield index.to_bytes(8, "big") + filler


@functools.cache
def digest_of_numbered(count: int, size: int) -> str:
    sha = hashlib.sha256()
    for piece in numbered_pieces(count, size):
        sha.update(piece)
    return sha.hexdigest()


def test_large_upload_and_download_keep_memory_flat(serve: Serve) -> None:
    total = 256 * MiB
    download_piece = 65536

    def digest_app(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
        stream = environ["wsgi.input"]
        received = 0
        sha = hashlib.sha256()
        while block := stream.read(65536):
            received += len(block)
            sha.update(block)
        start_response(
            "200 OK",
            [
                ("Content-Length", str(total)),
                ("X-Received-Length", str(received)),
                ("X-Received-Sha256", sha.hexdigest()),
            ],
        )
        yield from numbered_pieces(total // download_piece, download_piece)

    with serve(digest_app, max_body=total) as server:
        memory = PeakRss()
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        connection.request(
            "PUT",
            "/",
            body=numbered_pieces(total // MiB, MiB),
            headers={"Content-Length": str(total)},
        )
        response = connection.getresponse()
        downloaded = 0
        sha = hashlib.sha256()
        while block := response.read(MiB):
            downloaded += len(block)
            sha.update(block)
        connection.close()
        growth = memory.growth()
    assert response.status == 200
    assert response.headers["X-Received-Length"] == str(total)
    assert response.headers["X-Received-Sha256"] == digest_of_numbered(total // MiB, MiB)
    assert downloaded == total
    assert sha.hexdigest() == digest_of_numbered(total // download_piece, download_piece)
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
        assert get_ok(server.port) == b"ok"  # the server still answers
        wait_for_no_connections(server)


@pytest.mark.parametrize("leaving", ["close", "reset"])
def test_client_gone_mid_upload_closes_the_body(serve: Serve, threads: int, leaving: str) -> None:
    closed = threading.Event()
    uploads: list[str] = []  # what the application saw of each upload
    read_errors: list[BaseException] = []

    def app(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
        if environ["PATH_INFO"] == "/ok":
            start_response("200 OK", [])
            yield b"ok"
            return
        uploads.append(environ["PATH_INFO"])
        try:
            environ["wsgi.input"].read()
        except BaseException as error:
            read_errors.append(error)
            raise
        finally:
            closed.set()
        start_response("200 OK", [])
        yield b"unexpected"

    with serve(app) as server:
        client = RawClient(server.port)
        # The 100 proves the server has the head: inline, it is buffering the body; with
        # threads, the application is reading it.
        client.send(
            b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n"
            b"Expect: 100-continue\r\n\r\n"
        )
        assert client.read_until(b"\r\n\r\n").startswith(b"HTTP/1.1 100 ")
        client.send(b"a" * 5000)
        if leaving == "reset":
            client.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        client.close()
        # Once the server has let the connection go, the request can no longer reach
        # the application: what it saw by then is all it will ever see.
        wait_for_no_connections(server)
        if threads:
            assert closed.wait(5)  # the read failed, the generator was closed
            assert uploads == ["/upload"]
            [error] = read_errors  # a read that raised, not a short body
            if leaving == "reset":
                assert isinstance(error, ClientDisconnectedError), repr(error)
            else:  # a FIN in the middle of the body: an incomplete request
                assert isinstance(error, (ClientDisconnectedError, ProtocolError)), repr(error)
        else:
            assert uploads == []  # inline: the app never saw a half body
        assert get_ok(server.port) == b"ok"  # the server still answers
        wait_for_no_connections(server)


def get_ok(port: int) -> bytes:
    """GET /ok on a new connection; the answer must be a 200."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    connection.request("GET", "/ok")
    response = connection.getresponse()
    body = response.read()
    connection.close()
    assert response.status == 200, (response.status, body)
    return body


def wait_for_no_connections(server: Any) -> None:
    deadline = time.monotonic() + 5
    while server.server.connections and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not server.server.connections, "a connection leaked"
    assert server.server.open_count == 0


def test_live_server_stops_cleanly_with_requests_in_flight() -> None:
    in_app = threading.Event()
    answers: list[tuple[int, str | None, bytes]] = []

    def app_until_draining(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        in_app.set()
        deadline = time.monotonic() + 5
        while not live.server.draining and time.monotonic() < deadline:  # `live`: below
            time.sleep(0.01)  # still working when the server is told to stop
        start_response("200 OK", [("Content-Length", "8")])
        return [b"finished"]

    def request(port: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("GET", "/")
        response = connection.getresponse()
        answers.append((response.status, response.getheader("Connection"), response.read()))
        connection.close()

    with live_server(app_until_draining, threads=2) as live:
        client = threading.Thread(target=request, args=(live.port,))
        client.start()
        assert in_app.wait(5)
    client.join(10)
    # The request in progress finished within the grace period, told not to keep alive.
    assert answers == [(200, "close", b"finished")]
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
