"""trusted_proxy_headers: believing only some of a trusted proxy's forwarding headers."""

from __future__ import annotations

from typing import Any

import pytest
from deploy_helpers import fields
from test_deploy_proxy import XFF, environ_app, exchange, get

from httpkit.config import Settings
from httpkit.errors import ConfigError
from httpkit.testing import live_server


def test_only_the_named_headers_are_believed_and_the_others_removed() -> None:
    with live_server(
        environ_app,
        trusted_proxy="127.0.0.1",
        trusted_proxy_headers="X-Forwarded-For, x-forwarded-proto",
    ) as server:
        status, body = exchange(server.port, get(XFF + "Forwarded: for=1.2.3.4\r\n"))
    assert status == 200
    seen = fields(body)
    assert (seen["remote"], seen["scheme"]) == ("10.0.0.2", "https")
    # Host and port stay the connection's; the headers the proxy passed on are gone,
    # so that an application reading them (ProxyFix, Django) cannot be fooled either.
    assert (seen["host"], seen["port"]) == ("inner:8000", "443")
    assert seen["fwd"] == "-"


def test_a_header_not_believed_is_not_even_checked() -> None:
    # A malformed X-Forwarded-Host would be a 400 if it were believed.
    with live_server(
        environ_app, trusted_proxy="127.0.0.1", trusted_proxy_headers="x-forwarded-for"
    ) as server:
        status, body = exchange(
            server.port, get("X-Forwarded-For: 198.51.100.1\r\nX-Forwarded-Host: a b\r\n")
        )
    assert (status, fields(body)["remote"], fields(body)["host"]) == (
        200,
        "198.51.100.1",
        "inner:8000",
    )


def test_by_default_every_header_of_the_kind_is_believed_and_none_removed() -> None:
    with live_server(environ_app, trusted_proxy="127.0.0.1") as server:
        status, body = exchange(server.port, get(XFF + "Forwarded: for=1.2.3.4\r\n"))
    seen = fields(body)
    assert (status, seen["remote"], seen["host"], seen["port"]) == (
        200,
        "10.0.0.2",
        "example.org",
        "8443",
    )
    assert seen["fwd"] == "for=1.2.3.4"  # as before: left for the application


def test_forwarded_named_removes_the_x_forwarded_headers() -> None:
    with live_server(
        environ_app,
        trusted_proxy="127.0.0.1",
        proxy_headers="forwarded",
        trusted_proxy_headers="forwarded",
    ) as server:
        status, body = exchange(server.port, get(XFF + "Forwarded: for=192.0.2.5\r\n"))
    seen = fields(body)
    assert (status, seen["remote"], seen["xff"]) == (200, "192.0.2.5", "-")


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (
            {"trusted_proxy": "127.0.0.1", "trusted_proxy_headers": "x-forwarded-by"},
            "unknown header 'x-forwarded-by'; known: forwarded, x-forwarded-for, "
            "x-forwarded-host, x-forwarded-port, x-forwarded-proto",
        ),
        (
            {"trusted_proxy": "127.0.0.1", "trusted_proxy_headers": "forwarded"},
            "forwarded is not read with proxy_headers=x-forwarded",
        ),
        ({"trusted_proxy_headers": "x-forwarded-for"}, "needs trusted_proxy"),
    ],
)
def test_bad_trusted_proxy_headers_are_refused(settings: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Settings(**settings)


def test_trusted_proxy_headers_from_the_command_line(httpkit: Any) -> None:
    server = httpkit(
        "--trusted-proxy",
        "127.0.0.1",
        "--trusted-proxy-headers",
        "x-forwarded-for",
        "--trusted-proxy-headers",
        "x-forwarded-proto",
    )
    status, body = exchange(server.port, get(XFF))
    assert status == 200
    assert fields(body)["remote"] == "10.0.0.2"
    assert fields(body)["scheme"] == "https"
    assert server.stop() == 0
