"""The parser's shortcuts change nothing a client can see.

The common head is checked by one pattern over the whole head (PLAIN_HEAD), and Host
values already checked are remembered.  Everything else takes the precise, piece by
piece path.  Here both paths parse the same generated heads - valid ones and ones with
the smuggling tricks - and must give the same requests, or the same status and message.
"""

from __future__ import annotations

import os
import re

import pytest
from h1_helpers import feed, head, request_of, status_of
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from httpkit.errors import ProtocolError
from httpkit.h1 import Event, Limits
from httpkit.h1 import head as head_module

AGREE = settings(
    max_examples=int(os.environ.get("H1_EXAMPLES", "300")),
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

# Pieces of request lines and field lines, the odd ones taken from the smuggling corpus.
METHODS = ["GET", "POST", "OPTIONS", "CONNECT", "get", "G\x00T", "M-SEARCH"]
TARGETS = ["/", "/a/b?c=d", "/%41", "/%4", "*", "h:443", "http://h/p", "http://x@h/", "/caf\xe9"]
VERSIONS = ["HTTP/1.1", "HTTP/1.0", "HTTP/2.0", "HTTP/1.1 ", "http/1.1"]
FIELDS = [
    "Host: h",
    "Host: h:80",
    "Host:h \t",
    "Host: a@b",
    "Host: h, i",
    "Host:",
    "X-A: b c",
    "X-A:",
    "X-A: caf\xe9",
    "X-A: a\x00b",
    "X-A: a\x7f",
    "X A: b",
    "X-A : b",
    " folded",
    "no-colon",
    "Content-Length: 3",
    "Content-Length: 3, 3",
    "Content-Length: +3",
    "Transfer-Encoding: chunked",
    "Transfer-Encoding: gzip, chunked",
    "Connection: close",
    "Connection: keep-alive",
    "Expect: 100-continue",
    "Expect: nothing",
    "Content-Type: a/b",
    "content-type: a/b",
    "User-Agent: x, y",
]
SMALL = Limits(max_header_count=4, max_body=2)

Outcome = list[Event] | tuple[int, str]


def outcome(data: bytes, limits: Limits) -> Outcome:
    """The events of ``data``, or the status and message it is refused with."""
    try:
        return feed(data, limits, eof=True)
    except ProtocolError as error:
        return error.status, str(error)


@st.composite
def heads(draw: st.DrawFn) -> bytes:
    line = f"{draw(st.sampled_from(METHODS))} {draw(st.sampled_from(TARGETS))} "
    line += draw(st.sampled_from(VERSIONS))
    fields = draw(st.lists(st.sampled_from(FIELDS), max_size=6))
    data = bytearray(head(line, *fields) + b"abc")
    # A few random bytes inserted anywhere reach what the lists above do not.
    for position, byte in draw(st.lists(st.tuples(st.integers(0, 500), st.integers(0, 255)))):
        data.insert(position % (len(data) + 1), byte)
    return bytes(data)


@AGREE
@given(heads(), st.booleans())
def test_the_one_call_check_and_the_precise_checks_agree(
    monkeypatch: pytest.MonkeyPatch, data: bytes, small: bool
) -> None:
    limits = SMALL if small else Limits()
    quick = outcome(data, limits)
    with monkeypatch.context() as patch:
        patch.setattr(head_module, "PLAIN_HEAD", re.compile("(?!)"))  # matches nothing
        patch.setattr(head_module, "_checked_hosts", set())
        precise = outcome(data, limits)
    assert quick == precise


def test_a_plain_head_takes_the_one_call_check() -> None:
    # Guards the test above: if PLAIN_HEAD never matched, both paths would be the same.
    text = "GET /a?b HTTP/1.1\r\nHost: h\r\nAccept: */*\r\n"
    match = head_module.PLAIN_HEAD.fullmatch(text)
    assert match is not None and match.groups() == ("GET", "/a?b", "1")


@pytest.mark.parametrize(
    "text",
    [
        "GET /a HTTP/1.1\r\nHost: h\r\n X: folded\r\n",
        "GET /a HTTP/1.1\r\nHost : h\r\n",
        "GET /a HTTP/1.1\r\nX: a\x00\r\n",
        "GET /a HTTP/1.1\r\nX: a\rb\r\n",
        "GET /%4 HTTP/1.1\r\nHost: h\r\n",
        "GET http://h/ HTTP/1.1\r\nHost: h\r\n",
        "GET /a HTTP/1.2\r\nHost: h\r\n",
    ],
)
def test_the_one_call_check_leaves_every_oddity_to_the_precise_path(text: str) -> None:
    assert head_module.PLAIN_HEAD.fullmatch(text) is None


def test_a_known_host_is_still_required_to_be_the_only_one() -> None:
    assert request_of(head("GET / HTTP/1.1", "Host: known")).keep_alive is True
    assert status_of(head("GET / HTTP/1.1", "Host: known", "Host: known")) == 400
    assert status_of(head("GET / HTTP/1.1", "Host: known", "Content-Length: x")) == 400
    # A known Host does not make an HTTP/1.0 request keep-alive by itself.
    assert request_of(head("GET / HTTP/1.0", "Host: known")).keep_alive is False


@pytest.mark.parametrize("version", ["1.0", "1.1"])
@pytest.mark.parametrize("first", [True, False], ids=["host-first", "connection-first"])
def test_a_known_host_with_connection_is_read_as_the_rules_say(version: str, first: bool) -> None:
    line = f"GET / HTTP/{version}"
    request_of(head(line, "Host: known"))  # now a known Host
    for value, keep_alive in [
        ("keep-alive", True),
        ("close", False),
        ("Keep-Alive", True),
        ("upgrade", version == "1.1"),
        ("keep-alive, close", False),
    ]:
        fields = ("Host: known", f"Connection: {value}")
        request = request_of(head(line, *(fields if first else fields[::-1])))
        assert (request.keep_alive, request.content_length) == (keep_alive, 0), value
    assert status_of(head(line, "Host: known", "Connection: close", "Host: known")) == 400


def test_an_invalid_host_is_refused_after_valid_ones_were_seen() -> None:
    for _ in range(3):
        request_of(head("GET / HTTP/1.1", "Host: good.example"))
        assert status_of(head("GET / HTTP/1.1", "Host: bad host")) == 400


def test_ever_new_host_values_do_not_grow_memory() -> None:
    for number in range(3 * head_module._MAX_CHECKED_HOSTS):
        request_of(head("GET / HTTP/1.1", f"Host: h{number}.example"))
    assert len(head_module._checked_hosts) <= head_module._MAX_CHECKED_HOSTS


def test_long_host_values_are_checked_every_time_and_never_stored() -> None:
    host = "h" * (head_module._MAX_CHECKED_HOST_CHARS + 1)
    assert request_of(head("GET / HTTP/1.1", f"Host: {host}")).header("host") == host
    assert host not in head_module._checked_hosts
