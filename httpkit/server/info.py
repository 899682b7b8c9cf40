"""The facts of one connection: who is talking to whom, over what."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["ConnectionInfo"]


@dataclass(slots=True)
class ConnectionInfo:
    """Who is talking to whom on one connection (the same object for every request)."""

    peer_host: str  # "" for Unix sockets
    peer_port: int
    server_host: str  # the listener's address (or the Unix socket path)
    server_port: int
    url_scheme: str = "http"
    multithread: bool = True
    trusted_proxy: bool = False  # the peer is a trusted proxy whose headers are believed
    client_subject: str = ""  # with --ca-certs: the client certificate's subject, "CN=..."
    client_issuer: str = ""  # and its issuer, both RFC 4514 strings
    # A handler's own values for this connection (the WSGI edge keeps the environ keys
    # that do not change from request to request).  Not copied by dataclasses.replace(),
    # so an info rewritten from a proxy's headers never reuses the proxy's values.
    handler_cache: object = field(default=None, init=False, repr=False, compare=False)
