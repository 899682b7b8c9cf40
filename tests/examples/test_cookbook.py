"""The cookbook example: hello, a streaming echo, a static site, custom error pages."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import httpx
import pytest
from webtest import TestApp

from examples.cookbook import make_app
from httpkit.testing import LiveServer, live_server

SOCKET_TIMEOUT = 5.0


@pytest.fixture
def client() -> TestApp:
    return TestApp(make_app())


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    with live_server(make_app(), threads=2) as running:
        yield running


def test_hello(client: TestApp) -> None:
    assert client.get("/hello").text == "Hello, world!\n"
    assert client.get("/hello/Ada").text == "Hello, Ada!\n"
    assert client.get("/hello/" + "x" * 101, status=400)


def test_echo_returns_the_body_and_its_type(client: TestApp) -> None:
    body = bytes(range(256)) * 1000
    response = client.post("/echo", body, headers={"Content-Type": "application/x-demo"})
    assert response.body == body
    assert response.content_type == "application/x-demo"


def test_static_site_serves_its_index_file(client: TestApp) -> None:
    index = client.get("/site/")
    assert "The httpkit cookbook site" in index.text
    assert index.headers["Cache-Control"] == "public, max-age=60"
    client.get("/site/", headers={"If-None-Match": index.headers["ETag"]}, status=304)
    assert client.get("/site/style.css").content_type == "text/css"
    assert client.get("/site", status=308).headers["Location"].endswith("/site/")


def test_custom_error_pages(client: TestApp) -> None:
    missing = client.get("/no/such/page", status=404)
    assert "<h1>Nothing here</h1>" in missing.text
    assert "/no/such/page" in missing.text
    failed = client.get("/boom", status=500)
    assert "<h1>Sorry</h1>" in failed.text
    assert "RuntimeError" not in failed.text  # the cause stays in the log


def test_echo_streams_back_before_the_upload_ends(server: LiveServer) -> None:
    # A chunked upload: the first chunk must come back while the client still holds
    # the rest, which only works if neither side buffers the whole body.
    with socket.create_connection((server.host, server.port), timeout=SOCKET_TIMEOUT) as sock:
        sock.sendall(
            b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n6\r\nfirst \r\n"
        )
        received = b""
        while b"first " not in received and len(received) < 4096:
            data = sock.recv(4096)
            if not data:
                break
            received += data
        assert received.startswith(b"HTTP/1.1 200 ")
        assert b"first " in received
        sock.sendall(b"6\r\nsecond\r\n0\r\n\r\n")
        while not received.endswith(b"0\r\n\r\n") and len(received) < 8192:
            data = sock.recv(4096)
            if not data:
                break
            received += data
    assert b"second" in received


def test_whole_cookbook_through_the_real_server(server: LiveServer) -> None:
    with httpx.Client(base_url=server.url, timeout=SOCKET_TIMEOUT) as http:
        assert http.get("/hello/server").text == "Hello, server!\n"
        assert http.post("/echo", content=b"ping").content == b"ping"
        assert "cookbook site" in http.get("/site/").text
        assert http.get("/missing").status_code == 404
