"""start_response, write(), file_wrapper, close() and application errors (PEP 3333)."""

from __future__ import annotations

import http.client
import logging
import os
import sys
import threading
from typing import Any

import pytest
from server_helpers import RawClient, Serve


class ClosingBody:
    """A response body that records that close() was called."""

    def __init__(self, pieces: list[bytes], closed: threading.Event) -> None:
        self.pieces = pieces
        self.closed = closed

    def __iter__(self) -> Any:
        return iter(self.pieces)

    def close(self) -> None:
        self.closed.set()


def get(server: Any, path: str = "/") -> tuple[int, dict[str, str], bytes]:
    client = RawClient(server.port)
    try:
        client.send(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        return client.read_response()
    finally:
        client.close()


def test_exception_before_start_response_gives_500_without_details(
    serve: Serve, caplog: pytest.LogCaptureFixture
) -> None:
    def failing_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        raise RuntimeError("secret database password")

    with caplog.at_level(logging.ERROR, "httpkit.error"), serve(failing_app) as server:
        status, _, body = get(server)
    assert status == 500
    assert b"secret" not in body
    assert "secret database password" in caplog.text  # logged with its traceback
    assert "Traceback" in caplog.text


def test_exception_after_response_started_truncates_it(serve: Serve) -> None:
    def failing_stream(environ: dict[str, Any], start_response: Any) -> Any:
        start_response("200 OK", [("Content-Type", "text/plain")])
        yield b"first part"
        raise RuntimeError("broken half-way")

    with serve(failing_stream) as server:
        client = RawClient(server.port)
        client.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        head = client.read_until(b"\r\n\r\n")
        assert b"200 OK" in head and b"chunked" in head
        rest = client.read_to_close()
        client.close()
    # The first piece arrived, but never the last chunk: the client knows it is cut.
    assert b"first part" in rest
    assert not rest.endswith(b"0\r\n\r\n")


def test_exception_after_start_response_but_before_body_gives_500(serve: Serve) -> None:
    def app(environ: dict[str, Any], start_response: Any) -> Any:
        start_response("200 OK", [("Content-Type", "text/plain")])
        raise ValueError("late")

    with serve(app) as server:
        assert get(server)[0] == 500


@pytest.mark.parametrize(
    "headers",
    [
        [("X-Evil", "a\r\nSet-Cookie: injected=1")],
        [("X-Evil", "a\nb")],
        [("X-Evil", "nul\x00byte")],
        [("Bad Name", "v")],
        [("Transfer-Encoding", "chunked")],
    ],
)
def test_invalid_response_headers_are_refused_with_500(serve: Serve, headers: Any) -> None:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", headers)
        return [b"never sent"]

    with serve(app) as server:
        status, response_headers, body = get(server)
    assert status == 500
    assert "set-cookie" not in response_headers
    assert b"never sent" not in body


@pytest.mark.parametrize("status", ["200", "2000 OK", "abc OK", "200OK", "099 Low", b"200 OK"])
def test_invalid_status_lines_are_refused(serve: Serve, status: Any) -> None:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response(status, [])
        return [b"x"]

    with serve(app) as server:
        assert get(server)[0] == 500


def test_str_body_is_refused(serve: Serve) -> None:
    def app(environ: dict[str, Any], start_response: Any) -> Any:
        start_response("200 OK", [])
        return ["text, not bytes"]

    with serve(app) as server:
        assert get(server)[0] == 500


def test_app_returning_none_gets_500(serve: Serve) -> None:
    def app(environ: dict[str, Any], start_response: Any) -> Any:
        start_response("200 OK", [])

    with serve(app) as server:
        assert get(server)[0] == 500
        assert get(server)[0] == 500  # and the server goes on serving


def test_second_start_response_needs_exc_info(serve: Serve) -> None:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [])
        start_response("201 Created", [])
        return [b""]

    with serve(app) as server:
        assert get(server)[0] == 500


def test_exc_info_taken_outside_an_except_block_is_accepted(serve: Serve) -> None:
    # sys.exc_info() there is (None, None, None), which the WSGI types allow.
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("500 Oops", [("Content-Type", "text/plain")], sys.exc_info())
        start_response("200 OK", [("Content-Type", "text/plain")], sys.exc_info())
        return [b"replaced"]

    with serve(app) as server:
        assert get(server)[:3:2] == (200, b"replaced")


def test_exc_info_replaces_a_response_not_yet_sent(serve: Serve) -> None:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        try:
            raise KeyError("missing")
        except KeyError:
            start_response("404 Not Found", [("Content-Type", "text/plain")], sys.exc_info())
        return [b"gone"]

    with serve(app) as server:
        assert get(server)[:3:2] == (404, b"gone")


def test_exc_info_after_the_head_was_sent_reraises(serve: Serve) -> None:
    reraised: list[bool] = []

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        write = start_response("200 OK", [("Content-Type", "text/plain")])
        write(b"started")
        try:
            raise KeyError("late")
        except KeyError:
            try:
                start_response("500 Oops", [], sys.exc_info())
            except KeyError:
                reraised.append(True)
                raise
        return [b""]

    with serve(app) as server:
        client = RawClient(server.port)
        client.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert b"200 OK" in client.read_until(b"\r\n\r\n")
        client.read_to_close()
        client.close()
    assert reraised == [True]


def test_write_callable_sends_before_the_iterable(serve: Serve) -> None:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        write = start_response("200 OK", [("Content-Type", "text/plain")])
        write(b"written, ")
        return [b"returned"]

    with serve(app) as server:
        status, _, body = get(server)
    assert (status, body) == (200, b"written, returned")


def test_close_is_called_on_success_and_on_error(serve: Serve) -> None:
    closed_ok, closed_error = threading.Event(), threading.Event()

    class FailingBody(ClosingBody):
        def __iter__(self) -> Any:
            yield b"x"
            raise RuntimeError("boom")

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        start_response("200 OK", [])
        if environ["PATH_INFO"] == "/ok":
            return ClosingBody([b"a", b"b"], closed_ok)
        return FailingBody([], closed_error)

    with serve(app) as server:
        assert get(server, "/ok")[2] == b"ab"
        with pytest.raises((EOFError, ConnectionError)):
            get(server, "/fail")
        assert closed_ok.wait(5)
        assert closed_error.wait(5)


@pytest.mark.parametrize("loop", ["asyncio", "auto"])
def test_file_wrapper_sends_the_file(
    serve: Serve, tmp_path: Any, loop: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The file goes out with os.sendfile whichever loop runs (uvloop: kernelsend)."""
    sendfile_calls: list[int] = []
    real_sendfile = os.sendfile

    def counting_sendfile(*args: Any) -> int:
        sendfile_calls.append(1)
        return real_sendfile(*args)

    monkeypatch.setattr(os, "sendfile", counting_sendfile)
    content = bytes(range(256)) * 4096  # 1 MiB
    path = tmp_path / "data.bin"
    path.write_bytes(content)

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        file = open(path, "rb")  # noqa: SIM115 (the server closes it)
        file.seek(10)
        return environ["wsgi.file_wrapper"](file, 8192)

    with serve(app, loop=loop) as server:
        connection = http.client.HTTPConnection(server.host, server.port, timeout=10)
        for _ in range(2):
            connection.request("GET", "/")
            response = connection.getresponse()
            assert response.getheader("Content-Length") == str(len(content) - 10)
            assert response.read() == content[10:]
        connection.request("HEAD", "/")
        response = connection.getresponse()
        assert response.read() == b""
    # "auto" picks uvloop when it is installed, and asyncio's loop otherwise: both use it.
    assert sendfile_calls


def test_head_response_is_not_sent_even_if_the_app_returns_one(serve: Serve) -> None:
    def app(environ: dict[str, Any], start_response: Any) -> Any:
        start_response("200 OK", [("Content-Type", "text/plain")])
        yield b"body of a GET"

    with serve(app) as server:
        client = RawClient(server.port)
        client.send(b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\nHEAD / HTTP/1.1\r\nHost: x\r\n\r\n")
        client.read_response(head_only=True)
        client.read_response(head_only=True)
        assert not client.is_closed(0.2)
        assert client.buffer == b""
        client.close()
