"""The PROXY protocol in front of TLS (a TLS-passthrough load balancer), real clients."""

from __future__ import annotations

import contextlib
import socket
import ssl
import time
from pathlib import Path
from typing import Any

import pytest
from deploy_helpers import fields
from test_deploy_proxy import V2_SIGNATURE, environ_app, get, proxy_v2
from tls_certs import make_certificate

from httpkit.testing import live_server

V1 = b"PROXY TCP4 198.51.100.9 127.0.0.1 5555 443\r\n"


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[str, str]:
    cert, key = make_certificate(tmp_path, "server")
    return str(cert), str(key)


def client_context(cert: str) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=cert)


def read_all(tls: ssl.SSLSocket) -> bytes:
    received = b""
    while piece := tls.recv(65536):
        received += piece
    return received


def tls_after_preamble(port: int, preamble: bytes, cert: str, pieces: int = 1) -> bytes:
    """Send the preamble (in ``pieces``), then do TLS on the same socket; the response."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    step = max(1, len(preamble) // pieces)
    for start in range(0, len(preamble), step):
        sock.sendall(preamble[start : start + step])
        if pieces > 1:
            time.sleep(0.02)  # separate segments: the server sees the header in parts
    with client_context(cert).wrap_socket(sock, server_hostname="127.0.0.1") as tls:
        tls.sendall(get())
        return read_all(tls)


def tls_in_one_segment(port: int, preamble: bytes, cert: str) -> bytes:
    """The preamble and the ClientHello in one write: the server must not eat the hello."""
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = client_context(cert).wrap_bio(incoming, outgoing, server_hostname="127.0.0.1")
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        with pytest.raises(ssl.SSLWantReadError):
            tls.do_handshake()
        sock.sendall(preamble + outgoing.read())
        while True:
            data = sock.recv(65536)
            assert data, "the server closed the connection during the handshake"
            incoming.write(data)
            try:
                tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                sock.sendall(outgoing.read())
        tls.write(get())
        sock.sendall(outgoing.read())
        received = b""
        while data := sock.recv(65536):
            incoming.write(data)
            try:
                # Every record the data completes; b"" (or the error) at the close_notify.
                while piece := tls.read(65536):
                    received += piece
            except ssl.SSLWantReadError:
                continue
            except ssl.SSLZeroReturnError:
                pass
            break
        return received


def body_of(response: bytes) -> dict[str, str]:
    head, _, body = response.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head
    return fields(body)


@pytest.mark.parametrize("loop", ["asyncio", "auto"])
@pytest.mark.parametrize("preamble", [V1, proxy_v2("198.51.100.9", 5555)], ids=["v1", "v2"])
def test_proxy_header_then_tls(certificate: tuple[str, str], preamble: bytes, loop: str) -> None:
    cert, key = certificate
    with live_server(
        environ_app,
        certfile=cert,
        keyfile=key,
        trusted_proxy="127.0.0.1",
        proxy_protocol=True,
        loop=loop,
    ) as server:
        for pieces in (1, 3):
            seen = body_of(tls_after_preamble(server.port, preamble, cert, pieces))
            assert (seen["remote"], seen["scheme"]) == ("198.51.100.9", "https")
        seen = body_of(tls_in_one_segment(server.port, preamble, cert))
        assert (seen["remote"], seen["scheme"]) == ("198.51.100.9", "https")


def test_local_header_keeps_the_peer_and_untrusted_peers_speak_tls_at_once(
    certificate: tuple[str, str],
) -> None:
    cert, key = certificate
    local = V2_SIGNATURE + bytes([0x20, 0x00, 0, 0])
    options: dict[str, Any] = {"certfile": cert, "keyfile": key, "proxy_protocol": True}
    with live_server(environ_app, trusted_proxy="127.0.0.1", **options) as server:
        assert body_of(tls_after_preamble(server.port, local, cert))["remote"] == "127.0.0.1"
    with live_server(environ_app, trusted_proxy="192.0.2.1", **options) as server:
        seen = body_of(tls_after_preamble(server.port, b"", cert))
        assert (seen["remote"], seen["scheme"]) == ("127.0.0.1", "https")


@pytest.mark.parametrize(
    "preamble", [b"PROXY TCP4 1.2.3.4\r\n", b"\x16\x03\x01\x02\x00", b"PROXY " + b"x" * 120]
)
def test_malformed_or_missing_header_closes_the_connection(
    certificate: tuple[str, str], preamble: bytes
) -> None:
    cert, key = certificate
    with (
        live_server(
            environ_app, certfile=cert, keyfile=key, trusted_proxy="127.0.0.1", proxy_protocol=True
        ) as server,
        socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock,
    ):
        sock.sendall(preamble)
        # Closed with nothing in clear (a reset: the refused bytes were left unread).
        with contextlib.suppress(ConnectionResetError):
            assert sock.recv(100) == b""


def test_a_stalled_header_is_closed_after_header_timeout(certificate: tuple[str, str]) -> None:
    cert, key = certificate
    with (
        live_server(
            environ_app,
            certfile=cert,
            keyfile=key,
            trusted_proxy="127.0.0.1",
            proxy_protocol=True,
            header_timeout=0.3,
        ) as server,
        socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock,
    ):
        sock.sendall(V1[:10])
        started = time.monotonic()
        assert sock.recv(100) == b""
        assert 0.25 <= time.monotonic() - started < 3
        assert server.server.open_count == 0 or _eventually_zero(server.server)


def _eventually_zero(server: Any) -> bool:
    deadline = time.monotonic() + 2
    while server.open_count and time.monotonic() < deadline:
        time.sleep(0.01)
    return server.open_count == 0
