"""The values of settings that are lists, networks or addresses, parsed.

A few settings are strings with a grammar of their own (``host``, ``unix``,
``trusted_proxy``, ``trusted_proxy_headers``, ``metrics_bind``).  Their parsers live here,
apart from the table, because two readers need them: the combination checks, which
refuse a bad value at start-up, and the server, which reads the parsed value.
"""

from __future__ import annotations

import ipaddress

from httpkit.errors import ConfigError
from httpkit.setting import check_host

__all__ = [
    "PROXY_HEADER_NAMES",
    "Network",
    "parse_bind",
    "parse_networks",
    "split_list",
    "trusted_header_names",
]

# The forwarding headers of each proxy_headers kind (what trusted_proxy_headers picks from).
PROXY_HEADER_NAMES = {
    "x-forwarded": (
        "x-forwarded-for",
        "x-forwarded-proto",
        "x-forwarded-host",
        "x-forwarded-port",
    ),
    "forwarded": ("forwarded",),
}


def split_list(text: str | None) -> list[str]:
    """The items of a comma-separated setting (``host``, ``unix``, ``trusted_proxy``)."""
    if not text:
        return []
    return [item.strip() for item in text.split(",") if item.strip()]


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(text: str) -> tuple[list[Network], bool]:
    """The ``trusted_proxy`` setting: (networks, whether Unix socket peers are trusted)."""
    networks: list[Network] = []
    unix = False
    for item in split_list(text):
        if item == "unix":
            unix = True
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ConfigError(f"trusted_proxy: not an address or CIDR range: {item!r}") from None
    return networks, unix


def parse_bind(text: str) -> tuple[str, int]:
    """``metrics_bind``: (host, port) of ``HOST:PORT`` or ``[IPv6]:PORT``."""
    host, colon, port = text.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    elif ":" in host:
        host = ""  # an IPv6 address needs its brackets
    if not colon or not host or not (port.isascii() and port.isdigit()) or int(port) > 65535:
        raise ConfigError(f"metrics_bind: expected HOST:PORT, got {text!r}")
    try:
        check_host(host)
    except ConfigError as error:
        raise ConfigError(f"metrics_bind: {str(error).removeprefix('host: ')}") from None
    return host, int(port)


def trusted_header_names(text: str, kind: str) -> frozenset[str] | None:
    """The ``trusted_proxy_headers`` setting, lowercased; None when empty (every header
    of the ``proxy_headers`` kind is believed and no other is removed)."""
    names = [name.lower() for name in split_list(text)]
    if not names:
        return None
    known = sorted(name for names_of_kind in PROXY_HEADER_NAMES.values() for name in names_of_kind)
    for name in names:
        if name not in known:
            raise ConfigError(
                f"trusted_proxy_headers: unknown header {name!r}; known: {', '.join(known)}"
            )
        if name not in PROXY_HEADER_NAMES[kind]:
            raise ConfigError(
                f"trusted_proxy_headers: {name} is not read with proxy_headers={kind} "
                f"(which reads {', '.join(PROXY_HEADER_NAMES[kind])})"
            )
    return frozenset(names)
