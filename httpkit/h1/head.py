"""Turn one complete request head into a :class:`~httpkit.h1.events.Request`, or refuse it.

The head arrives as latin-1 text: the request line, CRLF, then each field line with its
CRLF.  Validation is a handful of precompiled ``fullmatch`` calls over the whole text,
not a loop over bytes; the slow, precise diagnosis runs only once something failed.
"""

from __future__ import annotations

from httpkit.errors import ProtocolError
from httpkit.h1.events import Request
from httpkit.h1.grammar import (
    ABSOLUTE_FORM,
    AUTHORITY_FORM,
    FIELD_BLOCK,
    HOST_VALUE,
    ORIGIN_FORM,
    ORIGIN_REQUEST_LINE,
    PLAIN_HEAD,
    REQUEST_LINE,
    TOKEN,
    check_field_block,
    parse_decimal,
    split_list,
)
from httpkit.h1.limits import Limits

__all__ = ["RefusedHeadError", "parse_fields", "parse_request_head"]


class RefusedHeadError(ProtocolError):
    """A head refused after its request line was read: a malformed or repeated field,
    too many fields (431), or framing refused (413 for a Content-Length over
    ``max_body``, 400 or 501 for its framing fields).  ``request`` is the head without a
    body (its fields when they were well-formed, else none), so that the access log
    shows its request line."""

    def __init__(self, error: ProtocolError, request: Request) -> None:
        super().__init__(str(error), error.status)
        self.request = request


# The fields that decide framing and connection handling; every other field is passed on.
_SPECIAL = frozenset(("host", "content-length", "transfer-encoding", "connection", "expect"))
# RFC 9110 5.3: a field whose grammar is one value, not a #list, must not be repeated;
# two values joined by a comma are not one (HTTP-dates contain commas), and two parsers
# that keep the first and the last act on different requests.  Refused even when equal,
# as Host is.  Request fields only (name -> spelling for messages): RFC 9111's (Age,
# Expires) are response fields.  Cookie may repeat (RFC 9113 8.2.3); Host and
# Content-Length are _framing's.
_SINGLETONS = {
    "authorization": "Authorization",  # RFC 9110 11.6.2: credentials
    "content-location": "Content-Location",  # 8.7: absolute-URI / partial-URI
    "content-range": "Content-Range",  # 14.4: range-unit SP range-resp
    "content-type": "Content-Type",  # 8.3: media-type
    "date": "Date",  # 6.6.1: HTTP-date
    "from": "From",  # 10.1.2: mailbox
    "if-modified-since": "If-Modified-Since",  # 13.1.3: HTTP-date
    "if-range": "If-Range",  # 13.1.5: entity-tag / HTTP-date
    "if-unmodified-since": "If-Unmodified-Since",  # 13.1.4: HTTP-date
    "max-forwards": "Max-Forwards",  # 7.6.2: 1*DIGIT
    "proxy-authorization": "Proxy-Authorization",  # 11.7.2: credentials
    "range": "Range",  # 14.2: range-unit "=" range-set (a list inside one field)
    "referer": "Referer",  # 10.1.3: absolute-URI / partial-URI
    "user-agent": "User-Agent",  # 10.1.5: product *( RWS ( product / comment ) )
}
# One membership test per field line finds both kinds; most lines are neither.
_WATCHED = frozenset(_SPECIAL | _SINGLETONS.keys())
# Host values that passed HOST_VALUE: a server sees the same few on every request.
# Emptied when full, so clients sending ever-new values cannot grow memory; longer
# values (a DNS name has at most 253 characters, RFC 1035 2.3.4) are never stored.
_MAX_CHECKED_HOSTS = 256
_MAX_CHECKED_HOST_CHARS = 260
_checked_hosts: set[str] = set()


def parse_request_head(head: str, line_end: int, limits: Limits) -> Request:
    """Parse ``head`` (request line + CRLF + field lines, each ending in CRLF).

    ``line_end`` is the index of the request line's CRLF.  Raises ProtocolError carrying
    the status to answer (400, 413, 417, 431, 501, 505).
    """
    plain = PLAIN_HEAD.fullmatch(head)
    checked = False  # the field lines' syntax
    if plain is not None and plain.group(1) != "CONNECT":  # CONNECT needs host:port
        # The common shape, its syntax checked in one call: an origin-form request
        # line of HTTP/1.0 or 1.1 and well-formed field lines.
        checked = True
        method, target, minor = plain.groups()
        version = "1.1" if minor == "1" else "1.0"
        authority = None
    else:
        method, target, version, authority = _parse_request_line(head[:line_end])
    fields: list[tuple[str, str]] | None = None  # no list made for a request that passes
    try:  # the request line is read: a refusal from here on carries it (for the log)
        if not checked:
            check_field_block(head[line_end + 2 :])  # raises with the precise reason
        lines = head.split("\r\n")  # the request line, the field lines, then ""
        # Syntax first, then the count: a malformed head gets 400 however it was split
        # into reads (a partial head is refused for a bare LF before its fields are counted).
        if len(lines) - 2 > limits.max_header_count:
            raise ProtocolError(f"more than {limits.max_header_count} header fields", 431)
        fields, special = _split_fields(lines[1:-1])
        framing = _framing(special, version, limits)
    except ProtocolError as error:
        raise RefusedHeadError(
            error, Request(method, target, version, fields or [], False, False, 0, False)
        ) from None
    request = Request(method, target, version, fields, *framing)
    if authority is not None:
        _check_authority_matches_host(authority, request.header("host"))
    if method == "CONNECT":
        # httpkit never opens a tunnel, and a front end that saw this request may now
        # forward raw tunnel bytes: nothing after it can be trusted as a request.
        request.keep_alive = False
    return request


def parse_fields(block: str, max_count: int) -> list[tuple[str, str]]:
    """The (lower-case name, trimmed value) pairs of a block of CRLF-ended field lines."""
    if not block:
        return []
    # Syntax first, then the count, as for a head.
    if FIELD_BLOCK.fullmatch(block) is None:
        check_field_block(block)  # raises with the precise reason
    if block.count("\r\n") > max_count:
        raise ProtocolError(f"more than {max_count} header fields", 431)
    return _split_fields(block[:-2].split("\r\n"))[0]


def _split_fields(lines: list[str]) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(every field, the fields that decide framing) of well-formed field lines.

    Raises ProtocolError for a repeated singleton field, in a head as in trailers
    (RFC 9110 5.3 says "whether in the headers or trailers").
    """
    fields: list[tuple[str, str]] = []
    special: list[tuple[str, str]] = []
    singletons: list[str] | None = None  # made at the first one: many heads have none
    append = fields.append
    for line in lines:  # a plain loop: faster than a comprehension here
        name, _, value = line.partition(":")
        name = name.lower()
        # RFC 9110 5.5: only leading/trailing SP and HTAB (OWS) are removed from a value.
        field = (name, value.strip(" \t"))
        append(field)
        if name in _WATCHED:
            if name in _SPECIAL:
                special.append(field)
            elif singletons is None:
                singletons = [name]
            elif name in singletons:
                raise ProtocolError(
                    f"more than one {_SINGLETONS[name]} field: it takes a single value"
                    " (RFC 9110 5.3)"
                )
            else:
                singletons.append(name)
    return fields, special


def _parse_request_line(line: str) -> tuple[str, str, str, str | None]:
    """(method, target, version, the authority of an absolute-form target or None)."""
    match = ORIGIN_REQUEST_LINE.fullmatch(line)
    if match is not None and match.group(1) != "CONNECT":  # CONNECT needs host:port
        method, target, minor = match.groups()
        return method, target, "1.1" if minor == "1" else "1.0", None
    match = REQUEST_LINE.fullmatch(line)
    if match is None:
        raise ProtocolError(_request_line_problem(line))
    method, target, major, minor = match.groups()
    if major != "1" or minor not in "01":
        # RFC 9110 15.6.6; this also answers the HTTP/2 preface "PRI * HTTP/2.0".
        raise ProtocolError(f"HTTP version {major}.{minor} is not supported", 505)
    authority = _check_target(method, target)
    return method, target, "1.1" if minor == "1" else "1.0", authority


def _request_line_problem(line: str) -> str:
    for char, name in (("\n", "bare LF"), ("\r", "bare CR"), ("\x00", "NUL")):
        if char in line:
            return f"{name} in the request line (RFC 9112 2.2)"
    if not line:
        return "empty request line (only one empty line may precede a request, RFC 9112 2.2)"
    if line != line.strip(" \t"):
        return "whitespace around the request line (RFC 9112 3)"
    return f"malformed request line {line[:80]!r} (RFC 9112 3)"


def _check_target(method: str, target: str) -> str | None:
    """Refuse a target whose form does not suit ``method``; the absolute-form's authority."""
    # RFC 9112 3.2: the form of the target depends on the method.
    if method == "CONNECT":
        if AUTHORITY_FORM.fullmatch(target) is None:
            raise ProtocolError("CONNECT needs a host:port target (RFC 9112 3.2.3)")
    elif target == "*":
        if method != "OPTIONS":
            raise ProtocolError("the asterisk-form target is only for OPTIONS (RFC 9112 3.2.4)")
    elif target[0] == "/":
        if ORIGIN_FORM.fullmatch(target) is None:
            raise ProtocolError(f"invalid request target {target[:80]!r} (RFC 9112 3.2.1)")
    else:
        match = ABSOLUTE_FORM.fullmatch(target)
        if match is None:
            raise ProtocolError(f"invalid request target {target[:80]!r} (RFC 9112 3.2.2)")
        return match.group(1)
    return None


def _check_authority_matches_host(authority: str, host: str | None) -> None:
    # RFC 9112 3.2: a client MUST send a Host identical to the target's authority.  A
    # server is told to ignore Host then (3.2.2), but a front end or application that
    # routes by Host would disagree with one that routes by the target: refuse instead.
    if host is not None and host.lower() != authority.lower():
        raise ProtocolError("Host differs from the authority of the target (RFC 9112 3.2)")


def _framing(
    special: list[tuple[str, str]], version: str, limits: Limits
) -> tuple[bool, bool, int | None, bool]:
    """What the ``special`` fields (those in _SPECIAL) decide: the Request's keep_alive,
    expect_continue, content_length and chunked."""
    if len(special) == 1:
        name, value = special[0]
        if name == "host" and value in _checked_hosts:
            # The commonest head: a known Host, and nothing about body or connection.
            return version == "1.1", False, 0, False  # RFC 9112 9.3: 1.0 closes
    elif len(special) == 2:
        # A browser's head: a known Host and "Connection: keep-alive" (or close).
        (first, host), (second, option) = special if special[0][0] == "host" else special[::-1]
        if first == "host" and second == "connection" and host in _checked_hosts:
            if option == "keep-alive":  # RFC 9112 9.3: open in 1.0 and 1.1 alike
                return True, False, 0, False
            if option == "close":
                return False, False, 0, False
    hosts: list[str] = []
    lengths: list[str] = []
    codings: list[str] = []
    connection: list[str] = []
    expect: list[str] = []
    for name, value in special:
        if name == "host":
            hosts.append(value)
        elif name == "content-length":
            lengths.append(value)
        elif name == "transfer-encoding":
            members = split_list(value)
            if not members:
                # An empty field must not be mistaken for no Transfer-Encoding: a peer
                # that sees the field may frame the body differently (smuggling).
                raise ProtocolError("empty Transfer-Encoding (RFC 9112 6.1)")
            codings.extend(members)
        elif name == "connection":
            connection.extend(split_list(value))
        else:
            expect.extend(split_list(value))
    _check_host(hosts, version)
    chunked = bool(codings) and _check_transfer_encoding(codings, version, bool(lengths))
    length = None if chunked else _content_length(lengths, limits) if lengths else 0
    if version == "1.1":
        keep_alive = "close" not in connection  # RFC 9112 9.3
    else:
        keep_alive = "keep-alive" in connection and "close" not in connection
    expect_continue = bool(expect) and _expects_continue(expect, version, chunked or bool(length))
    return keep_alive, expect_continue, length, chunked


def _check_host(hosts: list[str], version: str) -> None:
    # RFC 9112 3.2: 400 for an HTTP/1.1 request without Host, for any request with more
    # than one, and for an invalid Host value.
    if len(hosts) > 1:
        raise ProtocolError("more than one Host header (RFC 9112 3.2)")
    if not hosts:
        if version == "1.1":
            raise ProtocolError("an HTTP/1.1 request needs a Host header (RFC 9112 3.2)")
        return
    host = hosts[0]
    if host in _checked_hosts:
        return
    if HOST_VALUE.fullmatch(host) is None:
        raise ProtocolError(f"invalid Host header {host[:80]!r} (RFC 9110 7.2)")
    if len(host) <= _MAX_CHECKED_HOST_CHARS:
        if len(_checked_hosts) >= _MAX_CHECKED_HOSTS:
            _checked_hosts.clear()
        _checked_hosts.add(host)


def _check_transfer_encoding(codings: list[str], version: str, has_length: bool) -> bool:
    """True when the body is chunked; raises for every framing we refuse."""
    if version == "1.0":
        # RFC 9112 6.1: TE in an HTTP/1.0 message means faulty framing.
        raise ProtocolError("Transfer-Encoding in an HTTP/1.0 request (RFC 9112 6.1)")
    if has_length:
        # RFC 9112 6.1 allows framing by TE and closing; refusing is the simplest safe
        # answer to this classic smuggling vector.
        raise ProtocolError("both Content-Length and Transfer-Encoding (RFC 9112 6.1)")
    if codings[-1] != "chunked" or codings.count("chunked") > 1:
        # RFC 9112 6.3: chunked must be final, and applied once (6.1).
        raise ProtocolError("Transfer-Encoding must end in a single chunked (RFC 9112 6.3)")
    for coding in codings[:-1]:
        name = coding.partition(";")[0].strip(" \t")
        if TOKEN.fullmatch(name) is None:
            raise ProtocolError(f"invalid transfer coding {name[:40]!r} (RFC 9112 6.1)")
        # RFC 9112 6.1: a coding the server does not decode gets 501.
        raise ProtocolError(f"transfer coding {name[:40]!r} is not implemented", 501)
    return True


def _content_length(lengths: list[str], limits: Limits) -> int:
    # Only called with a Content-Length: without CL or TE there is no body (RFC 9112 6.3).
    text = lengths[0]
    if len(lengths) > 1 or "," in text:
        # RFC 9110 8.6: repeated (or comma-joined) values are accepted only if all equal.
        values = {item.strip(" \t") for value in lengths for item in value.split(",")}
        if len(values) != 1:
            raise ProtocolError("conflicting Content-Length values (RFC 9110 8.6)")
        text = values.pop()
    length = parse_decimal(text)
    if length is None:
        if text.isascii() and text.isdigit():
            raise ProtocolError("Content-Length is too large", 413)
        raise ProtocolError(f"invalid Content-Length {text[:40]!r} (RFC 9110 8.6)")
    if limits.max_body is not None and length > limits.max_body:
        raise ProtocolError(f"body of {length} bytes exceeds {limits.max_body}", 413)
    return length


def _expects_continue(expect: list[str], version: str, has_body: bool) -> bool:
    if any(item != "100-continue" for item in expect):
        # RFC 9110 10.1.1: the only expectation defined is 100-continue.
        raise ProtocolError(f"unsupported expectation {','.join(expect)[:80]!r}", 417)
    # RFC 9110 10.1.1: ignore it from HTTP/1.0 clients; nothing to wait for without a body.
    return version == "1.1" and has_body
