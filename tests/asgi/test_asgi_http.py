"""The http scope through the real server: scope, request bodies, disconnects,
back-pressure, and responses as strict as the WSGI edge's."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
from typing import Any

import httpx
import pytest

from httpkit.asgi import ASGIHandler, is_asgi_app
from httpkit.testing import live_server

Scope = dict[str, Any]


async def drain_body(receive: Any) -> bytes:
    body = b""
    while True:
        message = await receive()
        assert message["type"] == "http.request"
        body += message["body"]
        if not message.get("more_body"):
            return body


async def respond(send: Any, status: int, body: bytes, headers: Any = None) -> None:
    start = {"type": "http.response.start", "status": status, "headers": headers or []}
    await send(start)
    await send({"type": "http.response.body", "body": body})


def test_the_scope_says_what_was_asked() -> None:
    scopes: list[Scope] = []

    async def app(scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            raise RuntimeError("no lifespan here")
        scopes.append(scope)
        await respond(send, 200, b"ok", [(b"content-type", b"text/plain")])

    with live_server(app, url_prefix="/app") as server:
        response = httpx.get(
            server.url + "/app/caf%C3%A9%2Fx?q=1&r=%20", headers={"X-Thing": "A b"}
        )
    assert response.status_code == 200
    assert response.text == "ok"
    scope = scopes[0]
    assert scope["type"] == "http"
    assert scope["asgi"] == {"version": "3.0", "spec_version": "2.4"}
    assert scope["http_version"] == "1.1"
    assert scope["method"] == "GET"
    assert scope["scheme"] == "http"
    assert scope["path"] == "/app/café/x"
    assert scope["raw_path"] == b"/app/caf%C3%A9%2Fx"
    assert scope["query_string"] == b"q=1&r=%20"
    assert scope["root_path"] == "/app"
    assert (b"x-thing", b"A b") in scope["headers"]
    assert all(type(n) is bytes and n == n.lower() for n, _ in scope["headers"])
    assert scope["client"][0] == "127.0.0.1"
    assert scope["server"] == ("127.0.0.1", server.port)


def test_a_request_outside_the_url_prefix_is_a_404_without_reaching_the_app() -> None:
    paths: list[str] = []

    async def app(scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            raise RuntimeError("no lifespan here")
        paths.append(scope["path"])
        await respond(send, 200, b"served")

    with live_server(app, url_prefix="/app") as server:
        served = [httpx.get(server.url + path) for path in ("/app", "/app/items/3")]
        refused = [
            httpx.get(server.url + path) for path in ("/items/3", "/appx", "/appx/items/3", "/")
        ]
    assert [response.text for response in served] == ["served", "served"]
    assert [response.status_code for response in refused] == [404] * 4
    assert refused[0].text == "Not Found: this server serves paths under /app/\n"
    assert paths == ["/app", "/app/items/3"]


def test_detection_of_asgi_apps() -> None:
    async def function(scope: Scope, receive: Any, send: Any) -> None: ...

    class App:
        async def __call__(self, scope: Scope, receive: Any, send: Any) -> None: ...

    def wsgi(environ: Any, start_response: Any) -> list[bytes]:
        return []

    async def two(scope: Scope, receive: Any) -> None: ...

    assert is_asgi_app(function) and is_asgi_app(App())
    assert not is_asgi_app(wsgi) and not is_asgi_app(two) and not is_asgi_app(App)


def test_a_body_streams_to_receive_as_it_arrives(raw_client: Any) -> None:
    pieces: list[bytes] = []

    async def app(scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        while True:
            message = await receive()
            pieces.append(message["body"])
            if not message["more_body"]:
                break
        await respond(send, 200, b"%d" % sum(map(len, pieces)))

    with live_server(app) as server:
        client = raw_client(server.port)
        client.send(
            b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"
        )
        deadline = time.monotonic() + 5
        while not pieces and time.monotonic() < deadline:
            time.sleep(0.01)
        assert pieces == [b"hello"]  # before the end of the body was even sent
        client.send(b"6\r\n world\r\n0\r\n\r\n")
        status, _, body = client.read_response()
    assert (status, body) == (200, b"11")


def test_a_large_body_in_bounded_memory() -> None:
    biggest = 0

    async def app(scope: Scope, receive: Any, send: Any) -> None:
        nonlocal biggest
        if scope["type"] != "http":
            return
        total = 0
        while True:
            message = await receive()
            biggest = max(biggest, len(message["body"]))
            total += len(message["body"])
            await asyncio.sleep(0)  # a slow reader: the server must pause the socket
            if not message["more_body"]:
                break
        await respond(send, 200, b"%d" % total)

    size = 64 * 1024 * 1024
    block = b"x" * (1 << 20)

    def chunks() -> Any:
        for _ in range(size // len(block)):
            yield block

    with live_server(app) as server:
        response = httpx.post(server.url + "/", content=chunks(), timeout=30)
    assert response.text == str(size)
    assert biggest <= 2 * 1024 * 1024  # never the whole body at once


def test_receive_gives_disconnect_when_the_client_goes() -> None:
    got: list[str] = []

    async def app(scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        await drain_body(receive)
        message = await receive()  # nothing more: waits until the client goes
        got.append(message["type"])

    with live_server(app) as server:
        sock = socket.create_connection(("127.0.0.1", server.port))
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        time.sleep(0.2)
        assert got == []
        sock.close()
        deadline = time.monotonic() + 5
        while not got and time.monotonic() < deadline:
            time.sleep(0.01)
    assert got == ["http.disconnect"]


def test_send_waits_while_the_client_does_not_read() -> None:
    sent = 0
    stopped = threading.Event()

    async def app(scope: Scope, receive: Any, send: Any) -> None:
        nonlocal sent
        if scope["type"] != "http":
            return
        await send({"type": "http.response.start", "status": 200, "headers": []})
        piece = b"y" * 65536
        try:
            for _ in range(2000):  # 128 MiB if nothing held it back
                await send({"type": "http.response.body", "body": piece, "more_body": True})
                sent += len(piece)
        except OSError:
            stopped.set()  # spec 2.4: send() on a closed connection raises OSError
            raise

    with live_server(app) as server:
        sock = socket.create_connection(("127.0.0.1", server.port))
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        # The socket buffers fill, then send() waits: sent stops growing (on a busy
        # machine filling them takes a while, so watch for it rather than sleep once).
        deadline, first = time.monotonic() + 5, -1
        while sent != first and time.monotonic() < deadline:
            first = sent
            time.sleep(0.3)
        assert sent == first  # waiting, not buffering
        assert sent < 16 * 1024 * 1024
        received = 0
        sock.settimeout(5)
        while received < 4 * 1024 * 1024 or sent == first:  # reading lets it go on
            received += len(sock.recv(1 << 20))
        assert sent > first
        sock.close()
        assert stopped.wait(5)  # send() raised once the client had gone


@pytest.mark.parametrize(
    ("status", "headers", "logged"),
    [
        (99, [], "status must be an int"),
        (600, [], "status must be an int"),
        ("200", [], "status must be an int"),
        (200, [(b"x-a", b"1\r\nSet-Cookie: evil=1")], "invalid value for header"),
        (200, [(b"x-a", b"1\nx: 2")], "invalid value for header"),
        (200, [(b"bad name", b"1")], "invalid header name"),
        (200, [("x-str", "not bytes")], "must be bytes"),
        (200, [(b"transfer-encoding", b"chunked")], "hop-by-hop"),
        (200, [(b"content-length", b"2"), (b"content-length", b"3")], "conflicting"),
        (200, [(b"content-type", b"a/b"), (b"content-type", b"c/d")], "given twice"),
    ],
)
def test_a_bad_response_head_is_a_500_never_a_split_response(
    status: Any, headers: Any, logged: str, raw_client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    async def app(scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        await respond(send, status, b"ok", headers)

    with caplog.at_level(logging.ERROR, "httpkit.error"), live_server(app) as server:
        client = raw_client(server.port)
        client.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        code, fields, body = client.read_response()
        client.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")  # the connection is still sane
        again, _, _ = client.read_response()
    assert (code, again) == (500, 500)
    assert "set-cookie" not in fields and "x" not in fields
    assert b"ok" not in body
    assert logged in caplog.text


def test_a_body_longer_than_its_content_length_is_a_500() -> None:
    async def app(scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        await respond(send, 200, b"too long", [(b"content-length", b"3")])

    with live_server(app) as server:
        assert httpx.get(server.url + "/").status_code == 500


def test_raising_before_the_start_is_a_500(caplog: pytest.LogCaptureFixture) -> None:
    async def app(scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        raise ValueError("boom")

    with caplog.at_level(logging.ERROR, "httpkit.error"), live_server(app) as server:
        response = httpx.get(server.url + "/path?secret=1")
    assert response.status_code == 500
    assert "boom" not in response.text
    assert "error in the application handling GET /path; answered 500" in caplog.text
    assert "secret" not in caplog.text


def test_raising_after_the_head_left_cuts_the_connection(raw_client: Any) -> None:
    async def app(scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"partial", "more_body": True})
        raise ValueError("boom")

    with live_server(app) as server:
        client = raw_client(server.port)
        client.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        head = client.read_until(b"\r\n\r\n")
        assert b"200 OK" in head and b"chunked" in head
        with pytest.raises((EOFError, ConnectionResetError)):
            client.read_response()  # the last chunk never comes


@pytest.mark.parametrize(
    "messages",
    [
        [],  # returned without a response
        [{"type": "http.response.body", "body": b"x"}],  # body before start
        [{"type": "http.response.start", "status": 200}],  # started, never finished
        [{"type": "http.response.start", "status": 200}] * 2,
        [{"type": "websocket.accept"}],
    ],
    ids=["nothing", "body-first", "no-body", "start-twice", "wrong-type"],
)
def test_a_broken_message_sequence_is_a_500(messages: list[dict[str, Any]]) -> None:
    async def app(scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        for message in messages:
            await send(message)

    with live_server(app) as server:
        assert httpx.get(server.url + "/").status_code == 500


def test_an_app_that_never_responds_is_bounded_by_app_timeout(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def app(scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        await asyncio.sleep(3600)

    with (
        caplog.at_level(logging.ERROR, "httpkit.error"),
        live_server(app, app_timeout=0.3) as server,
    ):
        started = time.monotonic()
        response = httpx.get(server.url + "/", timeout=10)
        took = time.monotonic() - started
    assert response.status_code == 500
    assert 0.3 <= took < 3
    assert "did not start its response within 0.3 s (app_timeout)" in caplog.text


def test_app_timeout_does_not_cut_a_long_streamed_response() -> None:
    async def app(scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for _ in range(5):
            await asyncio.sleep(0.1)
            await send({"type": "http.response.body", "body": b"tick\n", "more_body": True})
        await send({"type": "http.response.body", "body": b""})

    with live_server(app, app_timeout=0.2) as server:
        assert httpx.get(server.url + "/").text == "tick\n" * 5


def test_a_refused_body_gets_its_status() -> None:
    async def app(scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = await drain_body(receive)
        await respond(send, 200, b"%d" % len(body))

    with live_server(app, max_body=1000) as server:
        chunks = iter([b"x" * 800, b"x" * 800])
        response = httpx.post(server.url + "/", content=chunks)
        assert response.status_code == 413
        assert httpx.post(server.url + "/", content=b"x" * 999).text == "999"


def test_keep_alive_pipelining_and_head(raw_client: Any) -> None:
    async def app(scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        await respond(send, 200, scope["path"].encode())

    with live_server(app) as server:
        client = raw_client(server.port)
        client.send(
            b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nHEAD /b HTTP/1.1\r\nHost: x\r\n\r\n"
            b"GET /c HTTP/1.0\r\n\r\n"
        )
        first = client.read_response()
        second = client.read_response(head_only=True)
        third = client.read_response()
    assert (first[0], first[2]) == (200, b"/a")
    assert second[1]["content-length"] == "2"
    assert third[2] == b"/c" and third[1]["connection"] == "close"


def test_the_handler_refuses_what_is_not_callable() -> None:
    with pytest.raises(TypeError, match="must be callable"):
        ASGIHandler(42)  # type: ignore[arg-type]


async def count_then_answer(scope: Scope, receive: Any, send: Any, *, then: float) -> None:
    if scope["type"] != "http":
        return
    body = await drain_body(receive)
    await asyncio.sleep(then)
    await respond(send, 200, b"%d" % len(body))


def trickle(port: int, pieces: int, pause: float) -> bytes:
    """A POST whose body arrives a byte at a time, ``pause`` seconds apart."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as client:
        head = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % pieces
        client.sendall(head)
        for _ in range(pieces):
            time.sleep(pause)
            client.sendall(b"x")
        client.shutdown(socket.SHUT_WR)
        reply = b""
        while chunk := client.recv(4096):
            reply += chunk
        return reply


def test_app_timeout_does_not_count_a_slow_upload() -> None:
    async def app(scope: Scope, receive: Any, send: Any) -> None:
        await count_then_answer(scope, receive, send, then=0)

    with live_server(app, app_timeout=1, access_log=False) as server:
        reply = trickle(server.port, pieces=10, pause=0.2)  # 2 s of upload
    assert reply.startswith(b"HTTP/1.1 200 ")
    assert reply.endswith(b"\r\n\r\n10")


def test_app_timeout_counts_from_the_end_of_the_body() -> None:
    async def app(scope: Scope, receive: Any, send: Any) -> None:
        await count_then_answer(scope, receive, send, then=2)

    with live_server(app, app_timeout=1, access_log=False) as server:
        reply = trickle(server.port, pieces=2, pause=0.1)
    assert reply.startswith(b"HTTP/1.1 500 ")
