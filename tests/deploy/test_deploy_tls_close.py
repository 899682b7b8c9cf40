"""A TLS connection the server closes after its last response, when the client never
answers the close_notify: neither a stop nor the next client waits for it.

The client reads the response to ``Connection: close`` up to its end and keeps its
socket open without a close_notify of its own, as some clients do.  asyncio's and
uvloop's SSL transports would wait 30 s (their ``ssl_shutdown_timeout``) for the answer;
the connection gives it ``linger_timeout``, and a stop none.
"""

from __future__ import annotations

import re
import signal
import socket
import ssl
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from deploy_helpers import HttpkitProcess
from test_deploy_proxy import proxy_v2
from tls_certs import make_certificate

Start = Callable[..., HttpkitProcess]

MODES = {
    "threads-asyncio": ["--loop", "asyncio"],
    "inline-asyncio": ["--threads", "0", "--loop", "asyncio"],
    "threads-auto": ["--loop", "auto"],  # uvloop when installed
    "inline-auto": ["--threads", "0", "--loop", "auto"],
}
GRACEFUL = 5.0  # seconds: --graceful-timeout
COUNT = 48  # blocks of 64 KiB: a response that outlasts the buffers between the two


@pytest.fixture
def tls_args(tmp_path: Path) -> list[str]:
    cert, key = make_certificate(tmp_path, "server")
    return ["--certfile", str(cert), "--keyfile", str(key), "--no-access-log"]


def client_context() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


@contextmanager
def read_and_stay(port: int, preamble: bytes = b"") -> Iterator[bytes]:
    """A client that reads the whole response to ``Connection: close`` and then keeps
    the connection open without answering the server's close_notify; the response."""
    raw = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:
        raw.sendall(preamble)
        tls = client_context().wrap_socket(raw, server_hostname="127.0.0.1")
        tls.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        received = b""
        while piece := tls.recv(65536):  # b"" at the server's close_notify
            received += piece
        yield received
    finally:
        raw.close()  # no close_notify: the socket alone


@pytest.mark.parametrize("proxied", [False, True], ids=["direct", "proxy-v2"])
@pytest.mark.parametrize("mode", list(MODES))
def test_a_stop_does_not_wait_for_a_closed_connections_close_notify(
    httpkit: Start, tls_args: list[str], mode: str, proxied: bool
) -> None:
    proxy = ["--proxy-protocol", "--trusted-proxy", "127.0.0.1"] if proxied else []
    args = [*tls_args, *MODES[mode], *proxy, "--graceful-timeout", str(GRACEFUL)]
    server = httpkit(*args, "--linger-timeout", "30")  # the stop alone must not wait
    preamble = proxy_v2("203.0.113.7", 5555) if proxied else b""
    with read_and_stay(server.port, preamble) as response:
        assert response.startswith(b"HTTP/1.1 200 "), response
        time.sleep(0.3)  # the server has closed its side and waits for the answer
        started = time.monotonic()
        server.signal(signal.SIGTERM)
        assert server.process.wait(GRACEFUL + 5) == 0, server.stderr
        took = time.monotonic() - started
    assert "graceful timeout: cutting" not in server.stderr, server.stderr
    assert "stopping: no requests in flight" in server.stderr, server.stderr
    assert took < GRACEFUL / 2, f"the stop took {took:.2f} s\n{server.stderr}"


@pytest.mark.parametrize("mode", ["threads-asyncio", "inline-auto"])
def test_a_closed_connections_slot_is_free_after_the_linger_timeout(
    httpkit: Start, tls_args: list[str], mode: str
) -> None:
    server = httpkit(*tls_args, *MODES[mode], "--max-connections", "1", "--linger-timeout", "0.5")
    with read_and_stay(server.port) as first:
        assert first.startswith(b"HTTP/1.1 200 ")
        started = time.monotonic()
        # The one slot is the first client's until its close is over: this one waits in
        # the kernel's backlog, then is served.
        with read_and_stay(server.port) as second:
            took = time.monotonic() - started
            assert second.startswith(b"HTTP/1.1 200 "), second
    assert took < 3.0, f"the slot was free after {took:.2f} s"
    assert server.stop() == 0
    assert "WARNING" not in server.stderr, server.stderr


def test_the_slot_is_not_freed_before_the_response_is_read(
    httpkit: Start, tls_args: list[str]
) -> None:
    """A large response read late arrives whole: the linger timeout counts once the
    transport has handed every byte to the socket, and the kernel delivers what it
    holds after the cut."""
    server = httpkit(*tls_args, "--linger-timeout", "0.2")
    raw = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
    with client_context().wrap_socket(raw, server_hostname="127.0.0.1") as tls:
        tls.sendall(b"GET /download?%d HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % COUNT)
        received = b""
        time.sleep(0.6)  # past the linger timeout: the response waits in buffers
        while piece := tls.recv(16384):
            received += piece
            time.sleep(0.001)
    head, _, body = received.partition(b"\r\n\r\n")
    assert re.match(rb"HTTP/1.1 200 ", head), head
    if b"chunked" in head.lower():
        body = _unchunk(body)
    assert body == b"".join(bytes([65 + index % 26]) * 65536 for index in range(COUNT))
    assert server.stop() == 0


def _unchunk(body: bytes) -> bytes:
    out, rest = b"", body
    while True:
        size_line, _, rest = rest.partition(b"\r\n")
        size = int(size_line, 16)
        if size == 0:
            return out
        out, rest = out + rest[:size], rest[size + 2 :]
