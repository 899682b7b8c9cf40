"""HTTP/1.1 behaviour over real sockets: keep-alive, pipelining, HTTP/1.0, 100-continue."""

from __future__ import annotations

import http.client
import re
import socket
import time
from typing import Any

import pytest
from server_helpers import RawClient, Serve, echo_app, hello_app

from httpkit.testing import live_server


def test_keep_alive_serves_many_requests_on_one_connection(serve: Serve) -> None:
    with serve(hello_app) as server:
        connection = http.client.HTTPConnection(server.host, server.port, timeout=5)
        for _ in range(20):
            connection.request("GET", "/")
            response = connection.getresponse()
            assert response.status == 200
            assert response.read() == b"Hello, world!"
        sock = connection.sock
        connection.request("GET", "/")
        connection.getresponse().read()
        assert connection.sock is sock  # never reconnected
        connection.close()


def test_pipelined_responses_come_back_in_request_order(serve: Serve, raw_client: Any) -> None:
    with serve(echo_app) as server:
        client: RawClient = raw_client(server.port)
        requests = b"".join(
            f"POST /{index} HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\n{index % 10}".encode()
            for index in range(10)
        )
        client.send(requests)
        for index in range(10):
            status, _, body = client.read_response()
            assert status == 200
            assert body == f"POST /{index} {index % 10}".encode()


def test_date_and_server_headers_are_sent(serve: Serve) -> None:
    with serve(hello_app, server_header="test-server/1") as server:
        connection = http.client.HTTPConnection(server.host, server.port, timeout=5)
        connection.request("GET", "/")
        response = connection.getresponse()
        assert response.getheader("Server") == "test-server/1"
        date = response.getheader("Date") or ""
        assert re.fullmatch(r"\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT", date)


def test_head_never_sends_a_body(serve: Serve, raw_client: Any) -> None:
    with serve(hello_app) as server:
        client: RawClient = raw_client(server.port)
        client.send(b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n")
        status, headers, _ = client.read_response(head_only=True)
        assert status == 200
        assert headers["content-length"] == "13"
        # The next bytes are the GET's response, not a stray body.
        status, _, body = client.read_response()
        assert (status, body) == (200, b"Hello, world!")


def test_http_1_0_client_gets_a_close_delimited_stream(serve: Serve, raw_client: Any) -> None:
    def streaming_app(environ: dict[str, Any], start_response: Any) -> Any:
        start_response("200 OK", [("Content-Type", "text/plain")])
        yield b"one "
        yield b"two"

    with serve(streaming_app) as server:
        client: RawClient = raw_client(server.port)
        client.send(b"GET / HTTP/1.0\r\n\r\n")
        head = client.read_until(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200 OK\r\n")
        assert b"chunked" not in head.lower()
        assert client.read_to_close() == b"one two"


def test_http_1_0_keep_alive_when_asked(serve: Serve, raw_client: Any) -> None:
    with serve(hello_app) as server:
        client: RawClient = raw_client(server.port)
        for _ in range(2):
            client.send(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            _status, headers, body = client.read_response()
            assert headers["connection"].lower() == "keep-alive"
            assert body == b"Hello, world!"


def test_client_connection_close_is_honoured(serve: Serve, raw_client: Any) -> None:
    with serve(hello_app) as server:
        client: RawClient = raw_client(server.port)
        client.send(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        _status, headers, _ = client.read_response()
        assert headers["connection"] == "close"
        assert client.is_closed()


def test_app_connection_close_is_honoured(serve: Serve, raw_client: Any) -> None:
    def closing_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Connection", "close"), ("Content-Length", "2")])
        return [b"ok"]

    with serve(closing_app) as server:
        client: RawClient = raw_client(server.port)
        client.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        status, _headers, body = client.read_response()
        assert (status, body) == (200, b"ok")
        assert client.is_closed()


def test_streamed_response_of_unknown_length_is_chunked(serve: Serve, raw_client: Any) -> None:
    def generator_app(environ: dict[str, Any], start_response: Any) -> Any:
        start_response("200 OK", [("Content-Type", "text/plain")])
        for index in range(5):
            yield f"part {index};".encode()

    with serve(generator_app) as server:
        client: RawClient = raw_client(server.port)
        client.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n" * 2)
        for _ in range(2):
            _status, headers, body = client.read_response()
            assert headers["transfer-encoding"] == "chunked"
            assert body == b"".join(f"part {index};".encode() for index in range(5))


def test_expect_100_continue_is_answered(serve: Serve, raw_client: Any) -> None:
    with serve(echo_app) as server:
        client: RawClient = raw_client(server.port)
        client.send(
            b"POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n"
        )
        # The client waits for the interim response before it sends the body.
        assert client.read_until(b"\r\n\r\n") == b"HTTP/1.1 100 Continue\r\n\r\n"
        client.send(b"hello")
        status, _, body = client.read_response()
        assert (status, body) == (200, b"POST /up hello")


def test_no_100_continue_when_the_app_answers_without_reading(
    serve: Serve, raw_client: Any
) -> None:
    with serve(hello_app, threads=2) as server:
        client: RawClient = raw_client(server.port)
        client.send(
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n"
        )
        status, headers, body = client.read_response()
        # A final status instead of 100; the unread body means the connection closes.
        assert (status, body) == (200, b"Hello, world!")
        assert headers["connection"] == "close"


def test_too_large_body_with_expect_gets_413_before_any_100(serve: Serve, raw_client: Any) -> None:
    with serve(echo_app, max_body=10) as server:
        client: RawClient = raw_client(server.port)
        client.send(
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\nExpect: 100-continue\r\n\r\n"
        )
        status, _, _ = client.read_response()
        assert status == 413
        assert client.is_closed()


def test_malformed_request_gets_400_and_close(serve: Serve, raw_client: Any) -> None:
    with serve(hello_app) as server:
        client: RawClient = raw_client(server.port)
        client.send(b"GET / HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n")
        status, _headers, body = client.read_response()
        assert status == 400
        assert b"400" in body
        assert client.is_closed()


def test_a_repeated_singleton_field_gets_400_and_close_without_calling_the_app(
    serve: Serve, raw_client: Any
) -> None:
    # RFC 9110 5.3: Content-Type is not a list; two values are two requests in one.
    calls: list[str] = []

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        calls.append(environ["PATH_INFO"])
        return hello_app(environ, start_response)

    with serve(app) as server:
        client: RawClient = raw_client(server.port)
        client.send(
            b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n"
            b"Content-Length: 5\r\nContent-Type: application/json\r\n\r\nhello"
            b"GET /next HTTP/1.1\r\nHost: x\r\n\r\n"
        )
        status, _, _ = client.read_response()
        assert status == 400
        assert client.is_closed()
    assert calls == []


def test_ipv6_loopback(threads: int) -> None:
    try:
        context = live_server(hello_app, host="::1", threads=threads)
        server = context.__enter__()
    except OSError:
        pytest.skip("no IPv6 loopback on this machine")
    try:
        assert server.url.startswith("http://[::1]:")
        connection = http.client.HTTPConnection("::1", server.port, timeout=5)
        connection.request("GET", "/")
        assert connection.getresponse().read() == b"Hello, world!"
    finally:
        context.__exit__(None, None, None)


def test_unix_socket(tmp_path: Any, threads: int) -> None:
    path = str(tmp_path / "httpkit.sock")
    with live_server(hello_app, unix=path, threads=threads) as server:
        assert server.url == "unix:" + path
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(5)
        sock.connect(path)
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
        sock.close()
        assert data.startswith(b"HTTP/1.1 200 OK")
        assert data.endswith(b"Hello, world!")
