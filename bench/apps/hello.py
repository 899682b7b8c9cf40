"""Hello world, as a WSGI app (``hello:app``) and as an ASGI app (``hello:asgi_app``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any

BODY = b"Hello, world!"
WSGI_HEADERS = [("Content-Type", "text/plain"), ("Content-Length", str(len(BODY)))]
ASGI_START = {
    "type": "http.response.start",
    "status": 200,
    "headers": [(b"content-type", b"text/plain"), (b"content-length", b"%d" % len(BODY))],
}
ASGI_BODY = {"type": "http.response.body", "body": BODY}


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    start_response("200 OK", WSGI_HEADERS)
    return [BODY]


async def asgi_app(
    scope: dict[str, Any],
    receive: Callable[[], Awaitable[dict[str, Any]]],
    send: Callable[[dict[str, Any]], Awaitable[None]],
) -> None:
    if scope["type"] != "http":
        return  # lifespan events: nothing to set up
    await send(ASGI_START)
    await send(ASGI_BODY)
