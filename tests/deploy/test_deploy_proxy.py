"""Behind a proxy: forwarding headers believed from trusted peers only; PROXY protocol."""

from __future__ import annotations

import socket
import struct
from typing import Any

import pytest
from deploy_helpers import fields

from httpkit.config import Settings
from httpkit.errors import ConfigError
from httpkit.server.proxyprotocol import parse_proxy_header
from httpkit.testing import live_server


def environ_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    body = " ".join(
        [
            "remote=" + environ["REMOTE_ADDR"],
            "scheme=" + environ["wsgi.url_scheme"],
            "host=" + environ.get("HTTP_HOST", "-"),
            "port=" + environ["SERVER_PORT"],
            "xff=" + environ.get("HTTP_X_FORWARDED_FOR", "-").replace(" ", ""),
            "fwd=" + environ.get("HTTP_FORWARDED", "-").replace(" ", ""),
        ]
    ).encode()
    start_response("200 OK", [("Content-Length", str(len(body)))])
    return [body]


def exchange(port: int, data: bytes) -> tuple[int, bytes]:
    """Send raw bytes; (status, body) of the response."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(data)
        received = b""
        while True:
            piece = sock.recv(65536)
            if not piece:
                break
            received += piece
    head, _, body = received.partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), body


def get(headers: str = "", preamble: bytes = b"") -> bytes:
    return (
        preamble
        + (f"GET / HTTP/1.1\r\nHost: inner:8000\r\nConnection: close\r\n{headers}\r\n").encode()
    )


XFF = (
    "X-Forwarded-For: 203.0.113.7, 10.0.0.2\r\nX-Forwarded-Proto: https\r\n"
    "X-Forwarded-Host: example.org\r\nX-Forwarded-Port: 8443\r\n"
)


def test_x_forwarded_headers_from_a_trusted_proxy_set_the_environ() -> None:
    with live_server(environ_app, trusted_proxy="127.0.0.1,10.0.0.0/8") as server:
        status, body = exchange(server.port, get(XFF))
    assert status == 200
    seen = fields(body)
    # 10.0.0.2 is a trusted proxy too: the client is the nearest untrusted address.
    assert seen["remote"] == "203.0.113.7"
    assert (seen["scheme"], seen["host"], seen["port"]) == ("https", "example.org", "8443")


def test_forwarding_headers_from_anyone_else_are_removed() -> None:
    with live_server(environ_app, trusted_proxy="192.0.2.0/24") as server:
        status, body = exchange(server.port, get(XFF + "Forwarded: for=1.2.3.4\r\n"))
    seen = fields(body)
    assert status == 200
    assert seen["remote"] == "127.0.0.1"
    assert (seen["scheme"], seen["host"], seen["xff"], seen["fwd"]) == (
        "http",
        "inner:8000",
        "-",
        "-",
    )


def test_rfc7239_forwarded() -> None:
    header = 'Forwarded: for="[2001:db8::17]:4711";proto=https;host=example.net, for=127.0.0.1\r\n'
    with live_server(environ_app, trusted_proxy="127.0.0.1", proxy_headers="forwarded") as server:
        status, body = exchange(server.port, get(header + "X-Forwarded-For: 9.9.9.9\r\n"))
    seen = fields(body)
    assert status == 200
    assert (seen["remote"], seen["scheme"], seen["host"], seen["port"]) == (
        "2001:db8::17",
        "https",
        "example.net",
        "443",
    )


@pytest.mark.parametrize(
    "header",
    [
        "X-Forwarded-For: not-an-address\r\n",
        "X-Forwarded-Proto: gopher\r\n",
        "X-Forwarded-Port: 99999\r\n",
        "X-Forwarded-Host: a b\r\n",
    ],
)
def test_malformed_x_forwarded_header_from_a_trusted_proxy_is_400(header: str) -> None:
    with live_server(environ_app, trusted_proxy="127.0.0.1") as server:
        assert exchange(server.port, get(header))[0] == 400


@pytest.mark.parametrize(
    "header",
    ["Forwarded: for\r\n", "Forwarded: for=1.2.3.4;for=5.6.7.8\r\n", "Forwarded: for=[::1\r\n"],
)
def test_malformed_forwarded_header_is_400(header: str) -> None:
    with live_server(environ_app, trusted_proxy="127.0.0.1", proxy_headers="forwarded") as server:
        assert exchange(server.port, get(header))[0] == 400


V2_SIGNATURE = b"\r\n\r\n\x00\r\nQUIT\n"


def proxy_v2(source: str, port: int) -> bytes:
    addresses = (
        socket.inet_aton(source) + socket.inet_aton("127.0.0.1") + struct.pack("!HH", port, 80)
    )
    return V2_SIGNATURE + bytes([0x21, 0x11]) + struct.pack("!H", len(addresses)) + addresses


@pytest.mark.parametrize(
    "preamble",
    [
        b"PROXY TCP4 198.51.100.9 127.0.0.1 5555 80\r\n",
        proxy_v2("198.51.100.9", 5555),
    ],
    ids=["v1", "v2"],
)
def test_proxy_protocol_gives_the_client_address(preamble: bytes) -> None:
    with (
        live_server(environ_app, trusted_proxy="127.0.0.1", proxy_protocol=True) as server,
        socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock,
    ):
        # Sent in two pieces, the header cut in the middle.
        sock.sendall(preamble[:9])
        sock.sendall(preamble[9:] + get())
        response = sock.recv(65536)
    assert response.startswith(b"HTTP/1.1 200")
    assert b"remote=198.51.100.9" in response


def test_proxy_protocol_local_and_unknown_keep_the_peer() -> None:
    local = V2_SIGNATURE + bytes([0x20, 0x00, 0, 0])
    with live_server(environ_app, trusted_proxy="127.0.0.1", proxy_protocol=True) as server:
        for preamble in (local, b"PROXY UNKNOWN\r\n"):
            status, body = exchange(server.port, get(preamble=preamble))
            assert (status, fields(body)["remote"]) == (200, "127.0.0.1")


@pytest.mark.parametrize(
    "preamble",
    [
        b"PROXY TCP4 1.2.3.4 127.0.0.1 05 80\r\n",  # leading zero
        b"PROXY TCP6 1.2.3.4 127.0.0.1 5 80\r\n",  # family mismatch
        b"PROXY TCP4 1.2.3.4\r\n",
        b"PROXY " + b"x" * 120,
        V2_SIGNATURE + bytes([0x31, 0x11, 0, 0]),  # version 3
        b"GET / HTTP/1.1\r\n",  # no header at all from a proxy that must send one
    ],
)
def test_malformed_proxy_protocol_header_is_400(preamble: bytes) -> None:
    with live_server(environ_app, trusted_proxy="127.0.0.1", proxy_protocol=True) as server:
        assert exchange(server.port, preamble + get())[0] == 400


def test_proxy_protocol_is_not_expected_from_untrusted_peers() -> None:
    with live_server(environ_app, trusted_proxy="192.0.2.1", proxy_protocol=True) as server:
        assert exchange(server.port, get())[0] == 200
        assert exchange(server.port, b"PROXY TCP4 1.2.3.4 127.0.0.1 5 80\r\n" + get())[0] == 400


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"trusted_proxy": "10.0.0.0/33"}, "not an address or CIDR range"),
        ({"proxy_protocol": True}, "needs trusted_proxy"),
    ],
)
def test_bad_proxy_settings_are_refused(settings: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Settings(**settings)


def test_proxy_protocol_v1_and_v2_over_ipv6() -> None:
    v1 = b"PROXY TCP6 2001:db8::5 ::1 65535 443\r\nGET"
    assert parse_proxy_header(v1) == (("2001:db8::5", 65535), len(v1) - 3)
    block = (
        socket.inet_pton(socket.AF_INET6, "2001:db8::6")
        + socket.inet_pton(socket.AF_INET6, "::1")
        + struct.pack("!HH", 1234, 443)
        + b"\x04\x00\x01x"  # a TLV after the addresses (spec 2.2.7), skipped
    )
    v2 = V2_SIGNATURE + bytes([0x21, 0x21]) + struct.pack("!H", len(block)) + block
    assert parse_proxy_header(v2 + b"GET") == (("2001:db8::6", 1234), len(v2))
    assert parse_proxy_header(v2[:20]) is None  # more bytes needed


def test_forwarded_quoted_commas_do_not_split_elements() -> None:
    header = 'Forwarded: for=203.0.113.9;host="a.example,b"\r\n'
    with live_server(environ_app, trusted_proxy="127.0.0.1", proxy_headers="forwarded") as server:
        status, body = exchange(server.port, get(header))
        assert (status, fields(body)["host"]) == (200, "a.example,b")  # one element
        header = 'Forwarded: for=203.0.113.9;proto="https", for=127.0.0.1\r\n'
        status, body = exchange(server.port, get(header))
    assert (status, fields(body)["remote"], fields(body)["scheme"]) == (
        200,
        "203.0.113.9",
        "https",
    )


def test_proxy_protocol_from_the_command_line(httpkit: Any) -> None:
    server = httpkit("--trusted-proxy", "127.0.0.0/8", "--proxy-protocol")
    status, body = exchange(server.port, get(preamble=proxy_v2("192.0.2.44", 40000)))
    assert (status, fields(body)["remote"]) == (200, "192.0.2.44")
    status, _ = exchange(server.port, get(preamble=b"PROXY TCP4 nonsense\r\n"))
    assert status == 400
    assert server.stop() == 0
