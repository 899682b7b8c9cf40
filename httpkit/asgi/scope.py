"""The ``http`` connection scope of one request (ASGI HTTP spec, "Connection Scope")."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from httpkit.asgi.handshake import offered_subprotocols
from httpkit.asgi.types import Scope
from httpkit.h1 import Request, split_target
from httpkit.server.contract import AsyncHandlerExchange
from httpkit.server.info import ConnectionInfo

__all__ = ["ASGI_VERSION", "http_scope", "request_headers", "request_path", "websocket_scope"]

# spec_version 2.4: send() on a closed connection raises an OSError (our
# ClientDisconnectedError), so applications need not listen for http.disconnect.
ASGI_VERSION = {"version": "3.0", "spec_version": "2.4"}
WEBSOCKET_VERSION = {"version": "3.0", "spec_version": "2.3"}  # 2.3: reason on close

# Header names as bytes, memoised for the names clients really send; bounded so that
# random names cannot grow it without limit.
_UPGRADE = b"upgrade"
_NAMES: dict[str, bytes] = {"upgrade": _UPGRADE}
_MAX_NAMES = 512


def request_headers(request: Request) -> tuple[list[tuple[bytes, bytes]], bool]:
    """The fields as the spec wants them (lower-case names and values, as bytes), and
    whether one of them is ``Upgrade`` (a WebSocket handshake, perhaps)."""
    names = _NAMES
    headers = []
    upgrade = False
    for name, value in request.headers:
        raw = names.get(name)
        if raw is None:
            raw = name.encode("latin-1")
            if len(names) < _MAX_NAMES:
                names[name] = raw
        elif raw is _UPGRADE:
            upgrade = True
        headers.append((raw, value.encode("latin-1")))
    return headers, upgrade


def request_path(request: Request) -> str:
    """The scope's ``path`` of ``request``: percent-decoded as UTF-8 (as in
    :func:`http_scope`, which decodes it inline: it is on every request's path)."""
    raw_path = split_target(request.target)[0]
    return unquote(raw_path) if "%" in raw_path else raw_path


def _address(host: str, port: int) -> tuple[str, int] | None:
    return (host, port) if host else None  # None for a Unix socket peer


def _server_address(info: ConnectionInfo) -> tuple[str, int | None] | None:
    if info.server_host.startswith("/"):
        return (info.server_host, None)  # a Unix socket: its path (the spec's form)
    return _address(info.server_host, info.server_port)


class _Addresses:
    """The scope's ``client`` and ``server`` of one connection, kept in its
    ``handler_cache``: the same for each request on it."""

    __slots__ = ("client", "server")

    def __init__(self, info: ConnectionInfo) -> None:
        self.client = _address(info.peer_host, info.peer_port)
        self.server = _server_address(info)


def _addresses(info: ConnectionInfo) -> _Addresses:
    cached = info.handler_cache
    if type(cached) is not _Addresses:
        cached = info.handler_cache = _Addresses(info)
    return cached


def http_scope(
    exchange: AsyncHandlerExchange,
    root_path: str,
    state: dict[str, Any] | None,
    headers: list[tuple[bytes, bytes]],
) -> Scope:
    """The scope of one HTTP request.

    ``path`` is percent-decoded as UTF-8 (the spec's "decoded into characters");
    ``raw_path`` keeps the bytes as sent.  A ``root_path`` (the url_prefix setting) is
    part of ``path``, as spec 2.x says: the application strips it when it routes.
    """
    request = exchange.request
    info: ConnectionInfo = exchange.connection
    raw_path, query = split_target(request.target)
    addresses = _addresses(info)
    scope: Scope = {
        "type": "http",
        "asgi": ASGI_VERSION,
        "http_version": request.http_version,
        "method": request.method,
        "scheme": info.url_scheme,
        "path": unquote(raw_path) if "%" in raw_path else raw_path,
        "raw_path": raw_path.encode("latin-1"),
        "query_string": query.encode("latin-1"),
        "root_path": root_path,
        "headers": headers,
        "client": addresses.client,
        "server": addresses.server,
    }
    if state is not None:
        scope["state"] = state.copy()  # shallow: each request may add its own keys
    return scope


def websocket_scope(
    exchange: AsyncHandlerExchange,
    root_path: str,
    state: dict[str, Any] | None,
    headers: list[tuple[bytes, bytes]],
) -> Scope:
    """The scope of one WebSocket: the HTTP one's keys, a ``ws``/``wss`` scheme and the
    subprotocols the client offers, in its order of preference."""
    scope = http_scope(exchange, root_path, state, headers)
    del scope["method"]
    scope["type"] = "websocket"
    scope["asgi"] = WEBSOCKET_VERSION
    scope["scheme"] = "wss" if scope["scheme"] == "https" else "ws"
    scope["subprotocols"] = offered_subprotocols(exchange.request)
    return scope
