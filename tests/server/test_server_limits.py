"""Limits and timeouts: every one answers or cuts the connection, none stalls the server."""

from __future__ import annotations

import contextlib
import http.client
import socket
import threading
import time
from typing import Any

import pytest
from server_helpers import RawClient, Serve, echo_app, hello_app

from httpkit.testing import live_server


def timed_get(port: int) -> float:
    started = time.monotonic()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    connection.request("GET", "/")
    assert connection.getresponse().read() == b"Hello, world!"
    connection.close()
    return time.monotonic() - started


def test_body_over_the_limit_by_content_length_gets_413(serve: Serve, raw_client: Any) -> None:
    with serve(echo_app, max_body=100) as server:
        client: RawClient = raw_client(server.port)
        client.send(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 101\r\n\r\n")
        status, _, _ = client.read_response()
        assert status == 413
        assert client.is_closed()
        ok: RawClient = raw_client(server.port)
        ok.send(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n" + b"a" * 100)
        assert ok.read_response()[0] == 200


def test_chunked_body_over_the_limit_gets_413(serve: Serve, raw_client: Any) -> None:
    with serve(echo_app, max_body=100) as server:
        client: RawClient = raw_client(server.port)
        client.send(b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        client.send(b"40\r\n" + b"a" * 64 + b"\r\n" + b"40\r\n" + b"b" * 64 + b"\r\n")
        status, headers, _ = client.read_response()
        assert status == 413
        assert headers["connection"] == "close"


def test_header_limits_give_431_and_414(serve: Serve, raw_client: Any) -> None:
    with serve(hello_app, max_header_count=5, max_request_line=100) as server:
        client: RawClient = raw_client(server.port)
        client.send(
            b"GET / HTTP/1.1\r\n" + b"".join(b"X-%d: v\r\n" % i for i in range(6)) + b"\r\n"
        )
        assert client.read_response()[0] == 431
        client = raw_client(server.port)
        client.send(b"GET /" + b"a" * 200 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
        assert client.read_response()[0] == 414


def test_slow_head_is_cut_at_the_header_deadline(serve: Serve, raw_client: Any) -> None:
    with serve(hello_app, header_timeout=0.4) as server:
        client: RawClient = raw_client(server.port)
        started = time.monotonic()
        for byte in b"GET / HTTP/1.1\r\n":  # one byte every 50 ms: never finishes in time
            try:
                client.send(bytes([byte]))
            except OSError:
                break
            time.sleep(0.05)
        status, _, _ = client.read_response()
        assert status == 408
        assert client.is_closed()
        # The deadline runs from the first byte, it is not renewed by each trickle.
        assert time.monotonic() - started < 2.0


def test_idle_keep_alive_connection_is_closed(serve: Serve, raw_client: Any) -> None:
    with serve(hello_app, keepalive_timeout=0.3) as server:
        client: RawClient = raw_client(server.port)
        client.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert client.read_response()[0] == 200
        started = time.monotonic()
        assert client.is_closed(wait=3.0)
        assert 0.2 < time.monotonic() - started < 2.0


def test_stalled_body_is_cut(serve: Serve, raw_client: Any) -> None:
    with serve(echo_app, body_timeout=0.3) as server:
        client: RawClient = raw_client(server.port)
        client.send(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nab")
        started = time.monotonic()
        assert client.is_closed(wait=3.0)
        assert time.monotonic() - started < 2.0
        assert timed_get_echo(server.port)


def timed_get_echo(port: int) -> bool:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    connection.request("POST", "/", body=b"fine")
    ok = connection.getresponse().read() == b"POST / fine"
    connection.close()
    return ok


def test_max_connections_defers_accepting(serve: Serve) -> None:
    with serve(hello_app, max_connections=2) as server:
        first = RawClient(server.port)
        second = RawClient(server.port)
        first.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert first.read_response()[0] == 200
        second.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert second.read_response()[0] == 200
        # The third waits in the kernel's backlog: connected, but not served...
        third = RawClient(server.port)
        third.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        third.sock.settimeout(0.3)
        with pytest.raises(TimeoutError):
            third.sock.recv(100)
        # ...until one of the others closes.
        first.close()
        third.sock.settimeout(5)
        assert third.read_response()[0] == 200
        second.close()
        third.close()


def test_busy_workers_and_full_backlog_give_503() -> None:
    release = threading.Event()
    entered = threading.Event()

    def slow_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        entered.set()
        release.wait(5)
        start_response("200 OK", [("Content-Length", "4")])
        return [b"done"]

    with live_server(slow_app, threads=1, max_pending=1, retry_after=7) as server:
        busy = RawClient(server.port)
        busy.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert entered.wait(5)
        queued = RawClient(server.port)
        queued.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        time.sleep(0.1)
        refused = RawClient(server.port)
        refused.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        status, headers, _ = refused.read_response()
        assert (status, headers["retry-after"]) == (503, "7")
        release.set()
        assert busy.read_response()[2] == b"done"
        assert queued.read_response()[2] == b"done"
        for client in (busy, queued, refused):
            client.close()


def test_slow_trickle_flood_does_not_delay_normal_requests(serve: Serve) -> None:
    with serve(hello_app, header_timeout=5.0) as server:
        flood = []
        for _ in range(200):
            sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
            sock.sendall(b"GET / HTTP/1.1\r\nHo")  # and then nothing more
            flood.append(sock)
        try:
            slowest = max(timed_get(server.port) for _ in range(20))
            assert slowest < 0.5
        finally:
            for sock in flood:
                sock.close()


def test_unread_response_is_cut_after_send_timeout(serve: Serve) -> None:
    closed = threading.Event()
    produced = [0]

    class Endless:
        def __iter__(self) -> Any:
            piece = b"x" * 65536
            for _ in range(100_000):
                produced[0] += len(piece)
                yield piece

        def close(self) -> None:
            closed.set()

    def endless_app(environ: dict[str, Any], start_response: Any) -> Endless:
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        return Endless()

    with serve(endless_app, send_timeout=0.5) as server:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        sock.connect(("127.0.0.1", server.port))
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")  # and never read
        assert closed.wait(5), "close() was not called after the send timeout"
        # Back-pressure: the app was paused, not drained into memory.
        assert produced[0] < 32 * 1024 * 1024
        sock.close()


def test_413_reaches_a_client_that_keeps_sending(serve: Serve) -> None:
    """A client that sends a refused body anyway still gets to read the 413."""
    with serve(echo_app, max_body=1024) as server:
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        head = b"PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 4000000\r\n\r\n"
        sender = threading.Thread(target=send_quietly, args=(sock, head + b"x" * 3_000_000))
        sender.start()
        sender.join(5)
        data = b""
        while not data.endswith(b"413 Content Too Large\n"):
            chunk = sock.recv(4096)
            assert chunk, f"connection closed before the answer: {data!r}"
            data += chunk
        assert data.startswith(b"HTTP/1.1 413 ")
        sock.close()


def send_quietly(sock: socket.socket, data: bytes) -> None:
    with contextlib.suppress(OSError):  # the server may stop reading at its deadline
        sock.sendall(data)
