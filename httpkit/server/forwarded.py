"""Who the client really is, behind a trusted reverse proxy.

A proxy in front of the server connects from its own address and tells the client's in
headers: ``X-Forwarded-For/-Proto/-Host/-Port`` (the de-facto set) or RFC 7239
``Forwarded``.  Anybody can send those headers, so they are believed only from the peers
in ``trusted_proxy``; from anyone else they are removed before the application sees
them.  A malformed header from a trusted proxy is a 400: guessing could let a client
pick its own address.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import replace

from httpkit.config import Settings, parse_networks, trusted_header_names
from httpkit.errors import ProtocolError
from httpkit.h1 import Request
from httpkit.server.info import ConnectionInfo

__all__ = ["FORWARDING_HEADERS", "ProxyTrust"]

FORWARDING_HEADERS = frozenset(
    ("forwarded", "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "x-forwarded-port")
)
DEFAULT_PORTS = {"http": 80, "https": 443}

# RFC 7239 4: forwarded-pair = token "=" value; value = token / quoted-string (RFC 9110 5.6).
_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_QUOTED = r'"(?:[^"\\\x00-\x08\x0a-\x1f\x7f]|\\[\t\x20-\x7e])*"'
# One pair and what follows it: ";" (same element), "," (next element) or the end.
_PAIR = re.compile(rf"[ \t]*({_TOKEN})=({_TOKEN}|{_QUOTED})[ \t]*([;,]|$)")
_UNESCAPE = re.compile(r"\\(.)")
# A host (RFC 3986 3.2.2) with an optional port: no spaces, slashes or control bytes.
_HOST = re.compile(r"(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~%!$&'()*+,;=-]+)(?::[0-9]{1,5})?")


class ProxyTrust:
    """The ``trusted_proxy`` networks and the kind of headers those proxies send."""

    def __init__(self, settings: Settings) -> None:
        self.networks, self.trust_unix = parse_networks(settings.trusted_proxy)
        self.use_forwarded = settings.proxy_headers == "forwarded"
        # trusted_proxy_headers: the forwarding headers not named are removed from a
        # trusted proxy's requests too (they are its client's, passed on), so nothing --
        # this module or the application -- believes them.  Unset, none is removed.
        chosen = trusted_header_names(settings.trusted_proxy_headers, settings.proxy_headers)
        self.removed_from_trusted = FORWARDING_HEADERS - chosen if chosen else frozenset()

    def trusts(self, host: str) -> bool:
        """Whether a peer (an address, or "" for a Unix socket peer) is a trusted proxy."""
        if not host:
            return self.trust_unix
        try:
            address = ipaddress.ip_address(host.partition("%")[0])
        except ValueError:
            return False
        return any(address in network for network in self.networks)

    def apply(self, request: Request, info: ConnectionInfo) -> ConnectionInfo:
        """The connection as the application should see it; removes untrusted headers."""
        if not info.trusted_proxy:
            if any(name in FORWARDING_HEADERS for name, _ in request.headers):
                request.headers = [h for h in request.headers if h[0] not in FORWARDING_HEADERS]
            return info
        removed = self.removed_from_trusted
        if removed and any(name in removed for name, _ in request.headers):
            request.headers = [h for h in request.headers if h[0] not in removed]
        if self.use_forwarded:
            found = self._from_forwarded(request)
        else:
            found = self._from_x_forwarded(request)
        client, scheme, host, port = found
        if client is None and scheme is None and host is None and port is None:
            return info
        changed = replace(info, trusted_proxy=False)
        if client is not None:
            changed.peer_host, changed.peer_port = client, 0
        if scheme is not None:
            changed.url_scheme = scheme
            changed.server_port = DEFAULT_PORTS[scheme]
        if host is not None:
            _set_host(request, host)
            if host.rpartition(":")[2].isdigit() and not host.endswith("]"):
                changed.server_port = int(host.rpartition(":")[2])
        if port is not None:
            changed.server_port = port
        return changed

    # -- X-Forwarded-* -----------------------------------------------------------------

    def _from_x_forwarded(
        self, request: Request
    ) -> tuple[str | None, str | None, str | None, int | None]:
        client = scheme = host = None
        port = None
        chain = request.header("x-forwarded-for")
        if chain is not None:
            client = self._client_of([_address(item) for item in chain.split(",")])
        proto = _last(request.header("x-forwarded-proto"))
        if proto is not None:
            scheme = _scheme(proto)
        host = _last(request.header("x-forwarded-host"))
        if host is not None:
            _check_host(host)
        port_text = _last(request.header("x-forwarded-port"))
        if port_text is not None:
            port = _port(port_text)
        return client, scheme, host, port

    def _client_of(self, chain: list[str]) -> str:
        """The nearest address in a proxy chain that is not a trusted proxy itself."""
        for address in reversed(chain):
            if not self.trusts(address):
                return address
        return chain[0]

    # -- RFC 7239 Forwarded ------------------------------------------------------------

    def _from_forwarded(
        self, request: Request
    ) -> tuple[str | None, str | None, str | None, int | None]:
        value = request.header("forwarded")
        if value is None:
            return None, None, None, None
        elements = _parse_forwarded(value)
        # RFC 7239 7.4: each proxy appends; the client is the nearest untrusted "for".
        chosen = elements[0]
        for element in reversed(elements):
            if not self.trusts(element.get("for", "")):
                chosen = element
                break
        scheme = _scheme(chosen["proto"]) if "proto" in chosen else None
        host = chosen.get("host")
        if host is not None:
            _check_host(host)
        return chosen.get("for"), scheme, host, None


def _parse_forwarded(value: str) -> list[dict[str, str]]:
    """``Forwarded`` as its elements (RFC 7239 4); commas inside quotes do not split."""
    elements: list[dict[str, str]] = [{}]
    position = 0
    while position < len(value):
        match = _PAIR.match(value, position)
        if match is None:
            raise ProtocolError(f"malformed Forwarded header: {value!r}", 400)
        name, text, separator = match.group(1).lower(), match.group(2), match.group(3)
        if text.startswith('"'):
            text = _UNESCAPE.sub(r"\1", text[1:-1])
        element = elements[-1]
        if name in element:  # RFC 7239 4: each parameter at most once per element
            raise ProtocolError(f"repeated {name!r} in a Forwarded element", 400)
        element[name] = _node(text) if name == "for" else text
        if separator == ",":
            elements.append({})
        position = match.end()
        if separator and position == len(value):
            raise ProtocolError(f"malformed Forwarded header: {value!r}", 400)
    return elements


def _node(text: str) -> str:
    """RFC 7239 6: an IPv4 address, "[IPv6]", either with ":port", "unknown" or "_obf"."""
    if text == "unknown" or text.startswith("_"):
        return text
    if text.startswith("["):
        address, bracket, _ = text[1:].partition("]")
        if not bracket:
            raise ProtocolError(f"malformed Forwarded node: {text!r}", 400)
        return _address(address)
    return _address(text.partition(":")[0])


def _address(text: str) -> str:
    text = text.strip()
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        raise ProtocolError(f"not an IP address in a forwarding header: {text!r}", 400) from None


def _last(value: str | None) -> str | None:
    # Each proxy may append: the last value is the one our trusted peer wrote.
    return None if value is None else value.rpartition(",")[2].strip()


def _scheme(text: str) -> str:
    scheme = text.lower()
    if scheme not in DEFAULT_PORTS:
        raise ProtocolError(f"forwarded scheme must be http or https, got {text!r}", 400)
    return scheme


def _port(text: str) -> int:
    if not (text.isascii() and text.isdigit() and len(text) <= 5 and 0 < int(text) <= 65535):
        raise ProtocolError(f"malformed X-Forwarded-Port: {text!r}", 400)
    return int(text)


def _check_host(host: str) -> None:
    if _HOST.fullmatch(host) is None:
        raise ProtocolError(f"malformed forwarded host: {host!r}", 400)


def _set_host(request: Request, host: str) -> None:
    request.headers = [h for h in request.headers if h[0] != "host"]
    request.headers.append(("host", host))
