"""Requests the server answers itself, without calling the application.

``CONNECT`` asks for a tunnel, which httpkit never opens: 501 (RFC 9110 9.3.6, 15.6.2).
``OPTIONS *`` asks about the server as a whole (RFC 9110 9.3.7): 200 with ``Allow``.
"""

from __future__ import annotations

from typing import Any

from server_helpers import RawClient, Serve


class RecordingApp:
    """An app that notes every call; each test asserts it was (not) called."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        self.calls.append(f"{environ['REQUEST_METHOD']} {environ['PATH_INFO']}")
        start_response("200 OK", [("Content-Length", "2")])
        return [b"ok"]


def test_connect_is_answered_501_by_the_server_and_the_connection_closes(serve: Serve) -> None:
    app = RecordingApp()
    with serve(app) as server:
        client = RawClient(server.port, timeout=3)
        client.send(b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n")
        status, _, _ = client.read_response()
        assert status == 501
        assert client.is_closed()
        client.close()
    assert app.calls == []


def test_options_asterisk_is_answered_by_the_server_and_keeps_the_connection(
    serve: Serve,
) -> None:
    app = RecordingApp()
    with serve(app) as server:
        client = RawClient(server.port, timeout=3)
        client.send(b"OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n")
        status, headers, body = client.read_response()
        assert (status, headers.get("content-length"), body) == (200, "0", b"")
        allowed = {method.strip() for method in headers.get("allow", "").split(",")}
        assert {"GET", "HEAD", "OPTIONS"} <= allowed
        assert app.calls == []
        client.send(b"GET /next HTTP/1.1\r\nHost: x\r\n\r\n")  # the same connection
        status, _, body = client.read_response()
        client.close()
        assert (status, body) == (200, b"ok")
    assert app.calls == ["GET /next"]
