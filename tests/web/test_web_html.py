"""HTML: markup a handler returns, whole or in pieces; a plain str stays text/plain."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import httpx
import pytest
from markupsafe import Markup
from webtest import TestApp

from httpkit import HTML, Router
from httpkit.testing import live_server
from httpkit.web.html import STREAM_BLOCK, WHOLE_PAGE_LIMIT

HTML_TYPE = "text/html; charset=utf-8"
WAIT = 5.0


def app_returning(result: object) -> TestApp:
    router = Router()
    router.add("/", lambda request: result)
    return TestApp(router)


def test_html_str_is_text_html_with_its_length() -> None:
    response = app_returning(HTML("<p>héllo</p>")).get("/")
    assert response.headers["Content-Type"] == HTML_TYPE
    assert response.headers["Content-Length"] == str(len("<p>héllo</p>".encode()))
    assert response.text == "<p>héllo</p>"


def test_a_plain_str_stays_text_plain() -> None:
    response = app_returning("<p>not markup</p>").get("/")
    assert response.headers["Content-Type"] == "text/plain; charset=UTF-8"


def test_markupsafe_markup_is_html() -> None:
    response = app_returning(Markup("<b>%s</b>") % "<i>").get("/")
    assert response.headers["Content-Type"] == HTML_TYPE
    assert response.text == "<b>&lt;i&gt;</b>"


def test_status_and_headers() -> None:
    page = HTML("<p>gone</p>", status=410, headers={"Cache-Control": "no-store"})
    response = app_returning(page).get("/", status=410)
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Content-Type"] == HTML_TYPE


def test_a_small_page_in_pieces_gets_a_content_length() -> None:
    closed: list[bool] = []

    def pieces() -> Iterator[str | bytes]:
        try:
            yield "<ul>"
            yield from (f"<li>{number}</li>" for number in range(3))
            yield b"</ul>"
        finally:
            closed.append(True)

    router = Router()
    router.add("/", lambda request: HTML(pieces()))
    response = TestApp(router).get("/")
    assert response.headers["Content-Length"] == str(len(response.body))
    assert response.text == "<ul><li>0</li><li>1</li><li>2</li></ul>"
    assert closed == [True]


def test_an_error_while_making_a_small_page_is_a_500() -> None:
    def pieces() -> Iterator[str]:
        yield "<p>"
        raise RuntimeError("the page broke")

    router = Router()
    router.add("/", lambda request: HTML(pieces()))
    TestApp(router).get("/", status=500)


def test_head_sends_the_headers_only() -> None:
    response = app_returning(HTML("<p>x</p>")).head("/")
    assert response.headers["Content-Type"] == HTML_TYPE
    assert response.body == b""


def test_bad_content_is_a_clear_error() -> None:
    with pytest.raises(TypeError, match="HTML"):
        HTML(42)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="status"):
        HTML("x", status=999)


def test_a_long_page_leaves_in_pieces_before_it_is_made() -> None:
    """Beyond the read-ahead the page streams: the client has the first part while the
    handler's generator is still waiting to make the rest."""
    more = threading.Event()
    line = "<p>" + "x" * 1000 + "</p>\n"

    def pieces() -> Iterator[str]:
        for _ in range(WHOLE_PAGE_LIMIT // len(line) + 2):
            yield line
        more.wait(WAIT)  # the rest is not made until the client saw the beginning
        yield "<p>the end</p>"

    router = Router()
    router.add("/", lambda request: HTML(pieces()))
    with live_server(router, threads=2) as server:
        sock = socket.create_connection((server.host, server.port), WAIT)
        try:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            received = b""
            while len(received) < WHOLE_PAGE_LIMIT:
                data = sock.recv(65536)
                assert data, "the connection closed early"
                received += data
            head = received.partition(b"\r\n\r\n")[0].lower()
            assert b"transfer-encoding: chunked" in head
            assert b"content-length" not in head
            assert b"content-type: text/html; charset=utf-8" in head
            more.set()
            while data := sock.recv(65536):
                received += data
        finally:
            sock.close()
    assert b"<p>the end</p>" in received


def test_a_long_page_over_http_inline() -> None:
    line = "<li>" + "é" * 100 + "</li>"
    count = 2 * WHOLE_PAGE_LIMIT // len(line.encode())
    router = Router()
    router.add("/", lambda request: HTML(line for _ in range(count)))
    with live_server(router, threads=0) as server:
        response = httpx.get(server.url + "/", timeout=WAIT)
    assert "content-length" not in response.headers
    assert response.text == line * count


def test_a_long_page_goes_out_in_blocks_not_tiny_pieces() -> None:
    router = Router()
    router.add("/", lambda request: HTML("<i>x</i>" for _ in range(40_000)))
    sent: list[str] = []
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/",
        "SERVER_NAME": "x",
        "SERVER_PORT": "80",
        "wsgi.url_scheme": "http",
    }
    pieces = list(router(environ, lambda status, headers: sent.append(status)))
    assert sent == ["200 OK"]
    assert b"".join(pieces) == b"<i>x</i>" * 40_000
    assert all(len(piece) >= STREAM_BLOCK for piece in pieces[:-1])
    assert len(pieces) < 40_000 * 8 // STREAM_BLOCK + 2
