"""The PROXY protocol header (HAProxy's spec, versions 1 and 2).

A load balancer that forwards TCP (HAProxy, AWS NLB, ...) opens each connection with one
header that names the client's address, then the client's bytes follow.  The server
expects it only from trusted proxies, before the first request; a malformed header is
answered with 400 and the connection is closed.
"""

from __future__ import annotations

import ipaddress
import struct

from httpkit.errors import ProtocolError

__all__ = ["V1_MAX", "V2_SIGNATURE", "Address", "parse_proxy_header"]

V1_MAX = 107  # spec 2.1: the longest version 1 line, CRLF included
V2_SIGNATURE = b"\r\n\r\n\x00\r\nQUIT\n"
V2_FIXED = 16  # signature, version/command, family/protocol, 2-byte length
_V2_ADDRESSES = {0x11: (4, 12), 0x21: (16, 36)}  # TCP over IPv4 / IPv6: (size, block)

Address = tuple[str, int]


def parse_proxy_header(data: bytes) -> tuple[Address | None, int] | None:
    """Parse the header at the start of ``data``.

    Returns None when more bytes are needed, else (the client's (host, port) or None
    when the header says to keep the real peer, bytes consumed).  Raises ProtocolError
    (400) for anything that is not a valid header.
    """
    if data[:1] == b"\r":
        if len(data) < V2_FIXED:
            _check_prefix(data, V2_SIGNATURE)
            return None
        return _parse_v2(data)
    if data[:1] == b"P":
        return _parse_v1(data)
    raise ProtocolError("expected a PROXY protocol header from the proxy", 400)


def _check_prefix(data: bytes, expected: bytes) -> None:
    if not expected.startswith(data[: len(expected)]):
        raise ProtocolError("malformed PROXY protocol header", 400)


def _parse_v1(data: bytes) -> tuple[Address | None, int] | None:
    end = data.find(b"\r\n", 0, V1_MAX)
    if end < 0:
        _check_prefix(data, b"PROXY ")
        if len(data) >= V1_MAX:
            raise ProtocolError("PROXY protocol v1 line too long", 400)
        return None
    fields = data[:end].split(b" ")
    if fields[0] != b"PROXY" or len(fields) < 2:
        raise ProtocolError("malformed PROXY protocol v1 header", 400)
    if fields[1] == b"UNKNOWN":  # spec 2.1: the proxy does not know; use the peer
        return None, end + 2
    if fields[1] not in (b"TCP4", b"TCP6") or len(fields) != 6:
        raise ProtocolError("malformed PROXY protocol v1 header", 400)
    version = 4 if fields[1] == b"TCP4" else 6
    source = _v1_address(fields[2], version)
    _v1_address(fields[3], version)
    port = _v1_port(fields[4])
    _v1_port(fields[5])
    return (source, port), end + 2


def _v1_address(text: bytes, version: int) -> str:
    try:
        address = ipaddress.ip_address(text.decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        raise ProtocolError("bad address in PROXY protocol header", 400) from None
    if address.version != version:
        raise ProtocolError("address family mismatch in PROXY protocol header", 400)
    return str(address)


def _v1_port(text: bytes) -> int:
    # spec 2.1: decimal 0-65535, no leading zero (digits checked, not int()'s grammar).
    if not text.isdigit() or len(text) > 5 or (len(text) > 1 and text[:1] == b"0"):
        raise ProtocolError("bad port in PROXY protocol header", 400)
    port = int(text)
    if port > 65535:
        raise ProtocolError("bad port in PROXY protocol header", 400)
    return port


def _parse_v2(data: bytes) -> tuple[Address | None, int] | None:
    if data[:12] != V2_SIGNATURE:
        raise ProtocolError("malformed PROXY protocol v2 signature", 400)
    version_command, family, length = data[12], data[13], struct.unpack("!H", data[14:16])[0]
    if version_command >> 4 != 2 or version_command & 0x0F > 1:
        raise ProtocolError("unsupported PROXY protocol v2 version or command", 400)
    total = V2_FIXED + length
    if len(data) < total:
        return None
    if version_command & 0x0F == 0:  # LOCAL: a health check by the proxy itself
        return None, total
    layout = _V2_ADDRESSES.get(family)
    if layout is None:  # spec 2.2: UNSPEC, UDP, Unix: accept but keep the real peer
        return None, total
    size, block = layout
    if length < block:
        raise ProtocolError("PROXY protocol v2 address block too short", 400)
    body = data[V2_FIXED:total]
    source = ipaddress.ip_address(body[:size])
    port = struct.unpack("!H", body[2 * size : 2 * size + 2])[0]
    return (str(source), port), total
