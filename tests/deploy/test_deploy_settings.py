"""The production settings: parsing, combinations, and limits that reach the parser."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any

import pytest

from httpkit.cli import build_parser, settings_from
from httpkit.config import Settings
from httpkit.errors import ConfigError
from httpkit.server.listeners import bind_sockets
from httpkit.testing import live_server


def parse(*argv: str) -> Settings:
    return settings_from(build_parser().parse_args(["serve", "m:app", *argv]), {})


def test_repeated_options_collect_every_value() -> None:
    settings = parse("--host", "127.0.0.1", "--host", "::1", "--trusted-proxy", "10.0.0.0/8")
    assert settings.host == "127.0.0.1,::1"
    assert settings.trusted_proxy == "10.0.0.0/8"
    assert parse("--unix", "/tmp/a", "--unix", "/tmp/b").unix == "/tmp/a,/tmp/b"


def test_max_body_none_is_unlimited_and_zero_refuses_every_body() -> None:
    assert parse("--max-body", "none").max_body is None
    assert Settings(max_body=None).max_body is None
    assert parse("--max-body", "0").max_body == 0


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"unix_mode": "999"}, "octal"),
        ({"unix_mode": "66a"}, "octal"),
        ({"keyfile": "key.pem"}, "keyfile: needs certfile"),
        ({"ca_certs": "ca.pem"}, "ca_certs: client certificates need certfile"),
        ({"host": "127.0.0.1,[::1]"}, "not a valid IPv6 address"),
        ({"workers": 0}, "workers: must be at least 1"),
        ({"graceful_timeout": -1.0}, "graceful_timeout"),
        ({"proxy_headers": "x-real-ip"}, "must be one of"),
    ],
)
def test_bad_combinations_are_one_line_errors(values: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Settings(**values)


def exchange(port: int, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(data)
        return sock.recv(65536)


def body_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    body = environ["wsgi.input"].read()
    start_response("200 OK", [("Content-Length", str(len(body)))])
    return [body]


def test_max_chunk_extension_reaches_the_parser() -> None:
    chunk = (
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"3;name=%s\r\nabc\r\n0\r\n\r\n"
    )
    with live_server(body_app, max_chunk_extension=16) as server:
        assert exchange(server.port, chunk % (b"v" * 8)).startswith(b"HTTP/1.1 200")
        assert exchange(server.port, chunk % (b"v" * 40)).startswith(b"HTTP/1.1 400")


def test_unlimited_max_body_accepts_a_large_declared_length() -> None:
    head = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
    with live_server(body_app, max_body=None) as server:
        assert exchange(server.port, head).endswith(b"abc")
    with live_server(body_app, max_body=2) as server:
        assert exchange(server.port, head).startswith(b"HTTP/1.1 413")


def test_host_default_applies_only_when_no_other_listener_is_given() -> None:
    assert parse().host == "127.0.0.1"
    assert (parse().port, parse().unix) == (8000, None)
    assert parse("--unix", "/tmp/a.sock").host is None  # the Unix socket alone
    assert parse("--fd", "3").host is None
    both = parse("--host", "127.0.0.1", "--unix", "/tmp/a.sock")
    assert (both.host, both.unix) == ("127.0.0.1", "/tmp/a.sock")
    from_env = settings_from(
        build_parser().parse_args(["serve", "m:app", "--unix", "/tmp/a"]),
        {"HTTPKIT_HOST": "::1"},
    )
    assert (from_env.host, from_env.unix) == ("::1", "/tmp/a")
    assert Settings(unix="/tmp/a.sock").replace(threads=1).host is None  # kept on copy


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--fd", "3", "--host", "127.0.0.1"], "fd: serves the inherited socket alone"),
        (["--fd", "3", "--unix", "/tmp/a.sock"], "fd: serves the inherited socket alone"),
        (["--host", "none"], "nothing to listen on"),
    ],
)
def test_listener_combinations_that_cannot_work_are_refused(argv: list[str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse(*argv)


def test_a_tcp_address_in_use_leaves_no_unix_socket_file(tmp_path: Path) -> None:
    path = str(tmp_path / "app.sock")
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        settings = Settings(host="127.0.0.1", port=port, unix=path)
        with pytest.raises(ConfigError, match=f"cannot listen on 127.0.0.1:{port}"):
            bind_sockets(settings)
    assert not os.path.exists(path)
