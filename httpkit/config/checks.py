"""The rules between settings, checked once every value is valid on its own.

A row of the table checks one value (its type, range and choices); what needs more than
one setting (``keyfile`` needs ``certfile``), a string's shape (``url_prefix``) or
something outside the settings (an installed ``prometheus_client``) is checked here,
before a server starts, so that a mistake is a bad setting rather than a failure later.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping
from typing import Any

from httpkit.config.values import parse_bind, parse_networks, split_list, trusted_header_names
from httpkit.errors import ConfigError
from httpkit.setting import check_host

__all__ = ["check_combination", "resolve_listeners"]


def check_combination(values: dict[str, Any]) -> None:
    """Rules that involve more than one setting, or the shape of a string."""
    prefix = values["url_prefix"]
    if prefix and (not prefix.startswith("/") or prefix.endswith("/")):
        raise ConfigError(f"url_prefix: must start with / and not end with /, got {prefix!r}")
    _check_listeners(values)
    mode = values["unix_mode"]
    if mode is not None and not (mode and len(mode) <= 4 and set(mode) <= set("01234567")):
        raise ConfigError(f"unix_mode: expected octal permissions such as 660, got {mode!r}")
    if values["keyfile"] is not None and values["certfile"] is None:
        raise ConfigError("keyfile: needs certfile")
    if values["ca_certs"] is not None and values["certfile"] is None:
        raise ConfigError("ca_certs: client certificates need certfile (HTTPS)")
    parse_networks(values["trusted_proxy"])
    if values["proxy_protocol"] and not values["trusted_proxy"]:
        raise ConfigError("proxy_protocol: needs trusted_proxy (who may send the header)")
    trusted_header_names(values["trusted_proxy_headers"], values["proxy_headers"])
    if values["metrics_bind"] is not None:
        parse_bind(values["metrics_bind"])
        if importlib.util.find_spec("prometheus_client") is None:
            raise ConfigError(
                "metrics_bind: needs prometheus_client (pip install 'httpkit[metrics]')"
            )
    if values["trusted_proxy_headers"] and not values["trusted_proxy"]:
        raise ConfigError("trusted_proxy_headers: needs trusted_proxy (whose headers they are)")
    for name in ("server_header", "access_log_format"):
        if any(ord(char) < 32 or ord(char) == 127 for char in values[name]):
            raise ConfigError(f"{name}: must not contain control characters")


def resolve_listeners(given: Mapping[str, Any], resolved: dict[str, Any]) -> None:
    """``host``'s default (127.0.0.1) applies only when no other listener is asked for:
    ``--unix PATH`` alone listens on the Unix socket only, ``--host`` next to it on both."""
    if "host" not in given and (resolved["unix"] is not None or resolved["fd"] is not None):
        resolved["host"] = None


def _check_listeners(values: Mapping[str, Any]) -> None:
    host, unix, fd = values["host"], values["unix"], values["fd"]
    if host is not None:
        for name in split_list(host) or [""]:
            check_host(name)
    if fd is not None and (host is not None or unix is not None):
        # An inherited socket is someone else's (systemd's): it is served alone.
        raise ConfigError("fd: serves the inherited socket alone, not with host or unix")
    if host is None and unix is None and fd is None:
        raise ConfigError("host: none, and no unix or fd either: nothing to listen on")
