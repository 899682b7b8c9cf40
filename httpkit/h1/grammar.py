"""The RFC 9110 / 9112 / 3986 grammar as precompiled patterns, and the checks built on them.

Everything here works on latin-1 decoded text, so each character is one wire byte and a
character class is a byte class.  Patterns are compiled once at import: the hot path only
calls ``fullmatch``.
"""

from __future__ import annotations

import re

from httpkit.errors import ProtocolError

__all__ = [
    "ABSOLUTE_FORM",
    "AUTHORITY_FORM",
    "CHUNK_LINE",
    "FIELD_BLOCK",
    "FIELD_VALUE",
    "HOST_VALUE",
    "MAX_DECIMAL_DIGITS",
    "ORIGIN_FORM",
    "ORIGIN_REQUEST_LINE",
    "PLAIN_HEAD",
    "REQUEST_LINE",
    "TOKEN",
    "check_field_block",
    "parse_decimal",
    "split_list",
]

# RFC 9110 5.6.2: token = 1*tchar; tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" /
# "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
_TCHAR = r"\-!#$%&'*+.^_`|~0-9A-Za-z"
TOKEN = re.compile(f"[{_TCHAR}]+")

# RFC 9110 5.5: field-value = *field-content; field-vchar = VCHAR / obs-text; SP and HTAB
# may appear inside.  Everything else (NUL, CR, LF, other CTLs, DEL) is refused.
_FIELD_CHAR = r"\t\x20-\x7e\x80-\xff"
FIELD_VALUE = re.compile(f"[{_FIELD_CHAR}]*")

# RFC 9112 5: field-line = field-name ":" OWS field-value OWS, each line ended by CRLF.
# No whitespace before the colon (5.1), no obs-fold (5.2): a line starting with SP/HTAB
# has no token name, so it fails here.  The whole block is checked in one call.
FIELD_BLOCK = re.compile(f"(?:[{_TCHAR}]+:[{_FIELD_CHAR}]*\r\n)*")

# RFC 9112 7.1.1: chunk-size [ chunk-ext ]; chunk-ext = *( BWS ";" BWS chunk-ext-name
# [ BWS "=" BWS chunk-ext-val ] ); chunk-ext-val = token / quoted-string (RFC 9110 5.6.4)
_QUOTED_STRING = r'"(?:[\t\x20\x21\x23-\x5b\x5d-\x7e\x80-\xff]|\\[\t\x20-\x7e\x80-\xff])*"'
# Matched on the receive buffer's bytes directly, so it is a bytes pattern.
CHUNK_LINE = re.compile(
    (
        f"([0-9A-Fa-f]+)(?:[ \t]*;[ \t]*[{_TCHAR}]+"
        f"(?:[ \t]*=[ \t]*(?:[{_TCHAR}]+|{_QUOTED_STRING}))?)*"
    ).encode("latin-1")
)

# RFC 9112 3: request-line = method SP request-target SP HTTP-version.  One digit each
# side of the dot (2.3); the target is checked separately by its form.
REQUEST_LINE = re.compile(f"([{_TCHAR}]+) ([\x21-\x7e]+) HTTP/([0-9])\\.([0-9])")

# RFC 3986 3.3: pchar = unreserved / pct-encoded / sub-delims / ":" / "@"; "/" and "?"
# separate segments and start the query.  "#" (a fragment) is never sent (RFC 9112 3.2).
_PCHAR = r"A-Za-z0-9\-._~!$&'()*+,;=:@"
_PCT = "%[0-9A-Fa-f]{2}"
# RFC 9112 3.2.1: origin-form = absolute-path [ "?" query ]
ORIGIN_FORM = re.compile(f"/[{_PCHAR}/?]*(?:{_PCT}[{_PCHAR}/?]*)*")
# The common case in one call: an origin-form request line of HTTP/1.0 or 1.1.
ORIGIN_REQUEST_LINE = re.compile(
    f"([{_TCHAR}]+) (/[{_PCHAR}/?]*(?:{_PCT}[{_PCHAR}/?]*)*) HTTP/1\\.([01])"
)
# The common head in one call: that request line, CRLF, then well-formed field lines.
# Whatever it refuses is checked again piece by piece, which names the problem.
PLAIN_HEAD = re.compile(f"{ORIGIN_REQUEST_LINE.pattern}\r\n{FIELD_BLOCK.pattern}")
# RFC 3986 3.2.2: host = IP-literal / IPv4address / reg-name; RFC 9112 3.2.3:
# authority-form = uri-host ":" port (CONNECT only); RFC 9110 7.2: Host = uri-host [":" port]
# (Unrolled as  chars* (pct chars*)*  rather than (char|pct)*: one alternation per
# character is several times slower in the re engine.)
_REG_NAME = "[A-Za-z0-9\\-._~!$&'()*+,;=]"
_HOST = f"(?:\\[[0-9A-Za-z:.]+\\]|{_REG_NAME}*(?:{_PCT}{_REG_NAME}*)*)"
AUTHORITY_FORM = re.compile(f"{_HOST}:[0-9]{{1,5}}")
HOST_VALUE = re.compile(f"{_HOST}(?::[0-9]*)?")
# RFC 9112 3.2.2: absolute-form = absolute-URI.  An origin server serves "http" and
# "https" URIs only (RFC 9110 4.2); group 1 is the authority, which may not hold
# userinfo (RFC 9110 4.2.4: "@" is not a host character) and must name a host (4.2.1).
# Then path-abempty [ "?" query ] (RFC 3986 3.3, 3.4).
ABSOLUTE_FORM = re.compile(
    f"[Hh][Tt][Tt][Pp][Ss]?://((?=[^:/?]){_HOST}(?::[0-9]*)?)"
    f"(?:[/?][{_PCHAR}/?]*(?:{_PCT}[{_PCHAR}/?]*)*)?"
)

# The longest decimal we hand to int(): 18 digits always fit in a 64-bit size.
MAX_DECIMAL_DIGITS = 18


def parse_decimal(text: str) -> int | None:
    """``text`` as a 1*DIGIT number, or None if it is not one (or has over 18 digits).

    ``int()`` is not the grammar: it takes "+5", " 5", "5_0" and non-ASCII digits.
    """
    if not text.isdigit() or not text.isascii():
        return None
    if len(text) > MAX_DECIMAL_DIGITS:
        # 1*DIGIT allows leading zeros: only the significant digits can be too many.
        text = text.lstrip("0") or "0"
        if len(text) > MAX_DECIMAL_DIGITS:
            return None
    return int(text)


def split_list(value: str) -> list[str]:
    """The lower-cased members of a comma-separated list (RFC 9110 5.6.1), empties skipped."""
    if "," not in value:  # the common one-member case, ``value`` already trimmed of OWS
        return [value.lower()] if value else []
    return [item for part in value.split(",") if (item := part.strip(" \t").lower())]


def check_field_block(block: str) -> None:
    """Raise a ProtocolError naming what is wrong with ``block``'s field lines, if anything.

    The fast path validates a block with :data:`FIELD_BLOCK` in one call; this runs only
    when that fails, to give the client a useful message.
    """
    if FIELD_BLOCK.fullmatch(block) is not None:
        return
    for line in block.split("\r\n"):
        if line[:1] in (" ", "\t"):
            raise ProtocolError("obs-fold (a folded header line) is not allowed (RFC 9112 5.2)")
        name, colon, value = line.partition(":")
        if "\n" in line:
            raise ProtocolError("bare LF in the header section, not CRLF (RFC 9112 2.2)")
        if "\r" in line:
            raise ProtocolError("bare CR in the header section (RFC 9112 2.2)")
        if line and not colon:
            raise ProtocolError(f"header line without a colon: {line[:40]!r}")
        if name and name[-1] in " \t":
            raise ProtocolError("whitespace before the colon of a header (RFC 9112 5.1)")
        if line and TOKEN.fullmatch(name) is None:
            raise ProtocolError(f"invalid header name {name[:40]!r} (RFC 9110 5.1)")
        if FIELD_VALUE.fullmatch(value) is None:
            raise ProtocolError(f"control character in the value of {name!r} (RFC 9110 5.5)")
    raise ProtocolError("malformed header section")
