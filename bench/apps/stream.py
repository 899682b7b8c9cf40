"""Streaming both ways: ``stream:app`` (WSGI) and ``stream:asgi_app`` (ASGI).

``POST /upload`` reads the request body in 64 KiB pieces as it arrives and answers with
the byte count; ``GET /download/<bytes>`` sends that many bytes as 64 KiB pieces, with a
Content-Length.  Neither holds more than one piece, so the server's own buffering is
what the peak memory measures.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

PIECE = 64 * 1024
BLOCK = b"x" * PIECE
LARGEST = 1 << 34  # 16 GiB: a bound on what /download will send


def _upload(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    stream = environ["wsgi.input"]
    received = 0
    while received < length:
        piece = stream.read(min(PIECE, length - received))
        if not piece:
            break
        received += len(piece)
    body = b"%d" % received
    status = "200 OK" if received == length else "400 Bad Request"
    start_response(status, [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


def _pieces(size: int) -> Iterator[bytes]:
    whole, rest = divmod(size, PIECE)
    for _ in range(whole):
        yield BLOCK
    if rest:
        yield BLOCK[:rest]


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
    method, path = environ["REQUEST_METHOD"], environ["PATH_INFO"]
    if method == "POST" and path == "/upload":
        return _upload(environ, start_response)
    size_text = path.removeprefix("/download/")
    if method == "GET" and size_text.isdigit() and int(size_text) <= LARGEST:
        size = int(size_text)
        start_response(
            "200 OK", [("Content-Type", "application/octet-stream"), ("Content-Length", str(size))]
        )
        return _pieces(size)
    start_response("404 Not Found", [("Content-Type", "text/plain"), ("Content-Length", "9")])
    return [b"not found"]


async def _asgi_upload(receive: Callable[[], Any], send: Callable[[Any], Any]) -> None:
    received = 0
    more = True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            return  # the client went away
        received += len(message["body"])
        more = message.get("more_body", False)
    body = b"%d" % received
    headers = [(b"content-type", b"text/plain"), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _asgi_download(size: int, send: Callable[[Any], Any]) -> None:
    headers = [(b"content-type", b"application/octet-stream"), (b"content-length", b"%d" % size)]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    for piece in _pieces(size):
        await send({"type": "http.response.body", "body": piece, "more_body": True})
    await send({"type": "http.response.body", "body": b""})


async def asgi_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The same two resources as an ASGI application (``stream:asgi_app``)."""
    if scope["type"] != "http":
        return  # lifespan: nothing to set up
    method, path = scope["method"], scope["path"]
    size_text = path.removeprefix("/download/")
    if method == "POST" and path == "/upload":
        await _asgi_upload(receive, send)
    elif method == "GET" and size_text.isdigit() and int(size_text) <= LARGEST:
        await _asgi_download(int(size_text), send)
    else:
        headers = [(b"content-type", b"text/plain"), (b"content-length", b"9")]
        await send({"type": "http.response.start", "status": 404, "headers": headers})
        await send({"type": "http.response.body", "body": b"not found"})
