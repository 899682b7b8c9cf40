"""The WebSocket opening handshake, as the server checks it (RFC 6455 4.2.1).

Apart from :mod:`httpkit.asgi.websocket` so that checking a handshake needs no wsproto:
without it (the ``asgi`` extra) a WebSocket request is answered ``501``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib

from httpkit.h1 import Request

__all__ = ["accept_key", "handshake_error", "is_websocket_request", "offered_subprotocols"]

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455 1.3


def _tokens(value: str | None) -> list[str]:
    return [item.strip(" \t").lower() for item in (value or "").split(",")]


def is_websocket_request(request: Request) -> bool:
    """Whether the request asks to switch to WebSocket (an ``Upgrade: websocket``)."""
    return "websocket" in _tokens(request.header("upgrade"))


def handshake_error(request: Request) -> tuple[int, list[tuple[str, str]], str] | None:
    """Why the opening handshake is refused (status, fields, message), or None
    (RFC 6455 4.2.1)."""
    if request.method != "GET" or request.http_version != "1.1":
        return 400, [], "a WebSocket handshake is an HTTP/1.1 GET"
    if "upgrade" not in _tokens(request.header("connection")):
        return 400, [], "a WebSocket handshake needs Connection: Upgrade"
    if request.content_length or request.chunked:
        return 400, [], "a WebSocket handshake has no body"
    if request.header("sec-websocket-version") != "13":
        # RFC 6455 4.4: say which version this server speaks.
        return 426, [("Sec-WebSocket-Version", "13")], "unsupported WebSocket version"
    key = request.header("sec-websocket-key") or ""
    try:
        if len(base64.b64decode(key, validate=True)) != 16:
            raise ValueError(key)
    except (binascii.Error, ValueError):
        return 400, [], "Sec-WebSocket-Key is not 16 bytes in base64"
    return None


def offered_subprotocols(request: Request) -> list[str]:
    """The subprotocols the client offers (``Sec-WebSocket-Protocol``), in its order of
    preference; the server may pick one of them, no other (RFC 6455 4.2.2)."""
    offered = request.header("sec-websocket-protocol") or ""
    return [item.strip() for item in offered.split(",") if item.strip()]


def accept_key(key: str) -> str:
    digest = hashlib.sha1(key.encode("ascii") + GUID).digest()
    return base64.b64encode(digest).decode("ascii")
