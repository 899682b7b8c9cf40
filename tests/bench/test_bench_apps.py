"""The streaming benchmark's WSGI app counts what it receives and sends what is asked."""

from __future__ import annotations

import asyncio
import io
from typing import Any

from stream import LARGEST, PIECE, app, asgi_app


def call(method: str, path: str, body: bytes = b"") -> tuple[str, bytes]:
    statuses: list[str] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        statuses.append(status)

    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
    }
    body = b"".join(app(environ, start_response))
    return statuses[0], body


def test_upload_answers_with_the_byte_count() -> None:
    status, body = call("POST", "/upload", b"a" * (3 * PIECE + 5))
    assert status == "200 OK"
    assert body == str(3 * PIECE + 5).encode()


def test_download_sends_exactly_the_size_asked() -> None:
    status, body = call("GET", f"/download/{2 * PIECE + 7}")
    assert status == "200 OK"
    assert len(body) == 2 * PIECE + 7


def test_unknown_paths_and_sizes_beyond_the_bound_are_not_found() -> None:
    assert call("GET", "/download/abc")[0].startswith("404")
    assert call("GET", f"/download/{LARGEST + 1}")[0].startswith("404")
    assert call("PUT", "/upload")[0].startswith("404")


def call_asgi(method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
    sent: list[dict[str, Any]] = []
    pieces = [body[:PIECE], body[PIECE:]]

    async def receive() -> dict[str, Any]:
        piece = pieces.pop(0)
        return {"type": "http.request", "body": piece, "more_body": bool(pieces)}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": method, "path": path}
    asyncio.run(asgi_app(scope, receive, send))
    return sent[0]["status"], b"".join(message.get("body", b"") for message in sent[1:])


def test_the_asgi_twin_uploads_and_downloads_the_same() -> None:
    assert call_asgi("POST", "/upload", b"a" * (3 * PIECE + 5)) == (200, b"%d" % (3 * PIECE + 5))
    status, body = call_asgi("GET", f"/download/{2 * PIECE + 7}")
    assert (status, len(body)) == (200, 2 * PIECE + 7)
    assert call_asgi("GET", f"/download/{LARGEST + 1}")[0] == 404
