"""Property tests: how bytes are split never matters, and bad bytes only raise ProtocolError."""

from __future__ import annotations

import os
from dataclasses import dataclass

from h1_helpers import feed, messages
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from httpkit.errors import ProtocolError
from httpkit.h1 import EndOfMessage, Limits, Request
from httpkit.h1.head import _SINGLETONS

# Bounded so the whole file runs in a few seconds on a shared 2-core machine; set
# H1_EXAMPLES=20000 for a deep run.
FAST = settings(
    max_examples=int(os.environ.get("H1_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

TCHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
PATH_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=:@/?"
# Request fields that take one value: a second line of one is refused with 400.
SINGLETON_FIELDS = frozenset(_SINGLETONS)
tokens = st.text(TCHARS, min_size=1, max_size=12)
field_values = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"),
    max_size=30,
).map(lambda value: value.strip(" "))


@dataclass
class Sent:
    """One request as generated, with the bytes that carry it."""

    target: str
    headers: list[tuple[str, str]]
    body: bytes
    wire: bytes


@st.composite
def requests(draw: st.DrawFn) -> Sent:
    target = "/" + draw(st.text(PATH_CHARS, max_size=40))
    names = draw(st.lists(tokens, max_size=6))
    # Skip names that change framing or would need special values, and repeats of a
    # field that takes one value (refused with 400, RFC 9110 5.3).
    special = {"host", "content-length", "transfer-encoding", "connection", "expect"}
    seen: set[str] = set()
    fields = []
    for name in names:
        lower = name.lower()
        if lower in special or (lower in SINGLETON_FIELDS and lower in seen):
            continue
        seen.add(lower)
        fields.append((name, draw(field_values)))
    body = draw(st.binary(max_size=200))
    framing = draw(st.sampled_from(["length", "chunked"] if body else ["none", "length"]))
    lines = [f"{draw(st.sampled_from(['GET', 'POST', 'PUT']))} {target} HTTP/1.1", "Host: h"]
    lines += [f"{name}: {value}" for name, value in fields]
    headers = [("host", "h"), *((name.lower(), value) for name, value in fields)]
    if framing == "length":
        lines.append(f"Content-Length: {len(body)}")
        headers.append(("content-length", str(len(body))))
        payload = body
    elif framing == "chunked":
        lines.append("Transfer-Encoding: chunked")
        headers.append(("transfer-encoding", "chunked"))
        payload = draw(chunked_payloads(body))
    else:
        payload = b""
    wire = "".join(f"{line}\r\n" for line in lines).encode("latin-1") + b"\r\n" + payload
    return Sent(target, headers, body, wire)


@st.composite
def chunked_payloads(draw: st.DrawFn, body: bytes) -> bytes:
    cuts = sorted(draw(st.lists(st.integers(0, len(body)), max_size=4)))
    pieces = [body[a:b] for a, b in zip([0, *cuts], [*cuts, len(body)], strict=True)]
    out = b""
    for piece in pieces:
        if piece:
            extension = draw(st.sampled_from(["", ";a", ";a=b", ';q="x y"']))
            out += f"{len(piece):x}{extension}\r\n".encode() + piece + b"\r\n"
    trailer = draw(st.sampled_from(["", "X-Check: 1\r\n"]))
    return out + b"0\r\n" + trailer.encode() + b"\r\n"


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    """``data`` cut at ``cuts`` (modulo its length), without empty pieces (b"" means EOF)."""
    points = sorted({cut % (len(data) + 1) for cut in cuts})
    pieces = [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]
    return [piece for piece in pieces if piece]


@FAST
@given(st.lists(requests(), min_size=1, max_size=3), st.lists(st.integers(0, 10_000)))
def test_splitting_the_stream_anywhere_gives_the_same_messages(
    sent: list[Sent], cuts: list[int]
) -> None:
    stream = b"".join(request.wire for request in sent)
    whole = messages(feed(stream))
    assert messages(feed(split(stream, cuts))) == whole
    got = [(request.target, request.headers, body) for request, body, _ in whole]
    assert got == [(request.target, request.headers, request.body) for request in sent]


def feed_only_protocol_errors(pieces: list[bytes]) -> None:
    try:
        feed(pieces, eof=True)
    except ProtocolError as error:
        assert error.status in {400, 413, 414, 417, 431, 501, 505}


@FAST
@given(st.binary(max_size=400), st.lists(st.integers(0, 1000), max_size=5))
def test_random_bytes_raise_nothing_but_protocol_errors(data: bytes, cuts: list[int]) -> None:
    feed_only_protocol_errors(split(data, cuts))


@FAST
@given(
    requests(),
    st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255), st.booleans()), max_size=4),
    st.lists(st.integers(0, 10_000), max_size=3),
)
def test_mutated_requests_raise_nothing_but_protocol_errors(
    sent: Sent, mutations: list[tuple[int, int, bool]], cuts: list[int]
) -> None:
    feed_only_protocol_errors(split(mutate(sent.wire, mutations), cuts))


def mutate(wire: bytes, mutations: list[tuple[int, int, bool]]) -> bytes:
    """``wire`` with bytes inserted or replaced at (position, byte, insert) points."""
    data = bytearray(wire)
    for position, byte, insert in mutations:
        index = position % (len(data) + 1)
        if insert or index == len(data):
            data.insert(index, byte)
        else:
            data[index] = byte
    return bytes(data)


# Small limits so that mutated requests also reach the 413, 414 and 431 refusals.
SMALL = Limits(
    max_request_line=64,
    max_header_bytes=300,
    max_header_count=6,
    max_body=150,
    max_chunk_extension=8,
)


def outcome(pieces: list[bytes]) -> int | list[tuple[Request, bytes, EndOfMessage]]:
    """The status a stream is refused with, or the messages it carries."""
    try:
        return messages(feed(pieces, SMALL, eof=True))
    except ProtocolError as error:
        return error.status


@FAST
@given(
    requests(),
    st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255), st.booleans()), max_size=4),
    st.lists(st.integers(0, 10_000), max_size=5),
)
def test_a_stream_gets_the_same_outcome_however_it_is_split(
    sent: Sent, mutations: list[tuple[int, int, bool]], cuts: list[int]
) -> None:
    data = mutate(sent.wire, mutations)
    assert outcome(split(data, cuts)) == outcome([data])
