"""The request line: method, target forms, version (RFC 9112 3)."""

from __future__ import annotations

import pytest
from h1_helpers import error_of, feed, head, request_of, status_of

from httpkit.errors import ProtocolError
from httpkit.h1 import NEED_DATA, Limits, ParserState, Request, ServerConnection


def test_origin_form_request_is_parsed() -> None:
    request = request_of(head("GET /a/b%20c?x=1&y=/z HTTP/1.1", "Host: example.com"))
    assert (request.method, request.target, request.http_version) == (
        "GET",
        "/a/b%20c?x=1&y=/z",
        "1.1",
    )


def test_absolute_form_target_is_kept_as_sent() -> None:
    # RFC 9112 3.2.2: a server MUST accept the absolute-form (its Host is identical to
    # the authority, RFC 9112 3.2; scheme and host compare case-insensitively).
    request = request_of(
        head("GET HTTP://Example.com:8080/p?q HTTP/1.1", "Host: example.COM:8080")
    )
    assert request.target == "HTTP://Example.com:8080/p?q"
    assert request_of(head("GET https://h HTTP/1.0")).target == "https://h"  # no Host in 1.0


@pytest.mark.parametrize(
    ("target", "host", "reason"),
    [
        ("http://evil/x", "h", "Host differs"),
        ("http://h:8080/x", "h", "Host differs"),
        ("http://user@h/x", "h", "invalid request target"),
        ("http:///x", "h", "invalid request target"),
        ("ftp://h/x", "h", "invalid request target"),
    ],
)
def test_absolute_form_must_be_http_with_the_host_of_the_host_field(
    target: str, host: str, reason: str
) -> None:
    error = error_of(head(f"GET {target} HTTP/1.1", f"Host: {host}"))
    assert (error.status, reason in str(error)) == (400, True)


def test_asterisk_form_is_for_options_only() -> None:
    assert request_of(head("OPTIONS * HTTP/1.1", "Host: h")).target == "*"
    assert status_of(head("GET * HTTP/1.1", "Host: h")) == 400


def test_authority_form_is_for_connect_only() -> None:
    assert request_of(head("CONNECT example.com:443 HTTP/1.1", "Host: h")).target == (
        "example.com:443"
    )
    assert status_of(head("CONNECT /path HTTP/1.1", "Host: h")) == 400
    assert status_of(head("GET example.com:443 HTTP/1.1", "Host: h")) == 400


def test_http_1_0_is_accepted_without_host() -> None:
    request = request_of(head("GET / HTTP/1.0"))
    assert request.http_version == "1.0"
    assert request.keep_alive is False


def test_methods_are_case_sensitive_tokens() -> None:
    assert request_of(head("get / HTTP/1.1", "Host: h")).method == "get"
    assert request_of(head("M-SEARCH / HTTP/1.1", "Host: h")).method == "M-SEARCH"
    assert status_of(head("GE(T / HTTP/1.1", "Host: h")) == 400


@pytest.mark.parametrize(
    "line",
    [
        "GET / HTTP/1.1 ",  # trailing space
        " GET / HTTP/1.1",  # leading space
        "GET  / HTTP/1.1",  # two spaces
        "GET\t/ HTTP/1.1",  # HTAB is not SP here
        "GET /a#frag HTTP/1.1",  # fragments are never sent
        "GET /a\rb HTTP/1.1",  # bare CR
        "GET /\x00 HTTP/1.1",  # NUL
        "GET /caf\xe9 HTTP/1.1",  # targets are ASCII (RFC 3986)
        "GET /%zz HTTP/1.1",  # pct-encoding needs two hex digits
        "GET /a b HTTP/1.1",
        'GET /a"b HTTP/1.1',
        "GET / HTTP/1.10",  # multi-digit versions
        "GET / HTTP/11.1",
        "GET / http/1.1",  # the version name is case-sensitive
        "GET / HTTP/1",
        "GET /",
        "GET / HTTP/1.1 extra",
    ],
)
def test_malformed_request_lines_get_400(line: str) -> None:
    assert status_of(head(line, "Host: h")) == 400


@pytest.mark.parametrize("version", ["2.0", "0.9", "1.2", "3.0"])
def test_other_http_versions_get_505(version: str) -> None:
    assert status_of(head(f"GET / HTTP/{version}", "Host: h")) == 505


def test_http2_preface_gets_505() -> None:
    assert status_of(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n") == 505


def test_one_empty_line_before_the_request_is_ignored() -> None:
    assert request_of(b"\r\n" + head("GET / HTTP/1.1", "Host: h")).target == "/"


def test_two_empty_lines_before_the_request_are_an_error() -> None:
    assert status_of(b"\r\n\r\n" + head("GET / HTTP/1.1", "Host: h")) == 400


def test_bare_lf_in_the_request_line_is_refused_before_the_head_ends() -> None:
    # A client using bare LF never sends CRLF CRLF: it must not be left waiting.
    error = error_of([b"GET / HTTP/1.1\nHost: h\n"])
    assert error.status == 400
    assert "LF" in str(error)


def test_overlong_request_line_gets_414() -> None:
    limits = Limits(max_request_line=100)
    assert status_of(head("GET /" + "a" * 100 + " HTTP/1.1", "Host: h"), limits) == 414


def test_overlong_request_line_is_refused_while_it_still_arrives() -> None:
    # The buffer never grows far past the limit: no CRLF is needed to refuse.
    conn = ServerConnection(Limits(max_request_line=100))
    conn.receive_data(b"GET /" + b"a" * 60)
    assert conn.next_event() is NEED_DATA
    conn.receive_data(b"a" * 60)
    with pytest.raises(ProtocolError, match="request line") as info:
        conn.next_event()
    assert info.value.status == 414
    assert conn.state is ParserState.CLOSED


def test_request_line_at_the_limit_is_accepted() -> None:
    line = "GET /" + "a" * 86 + " HTTP/1.1"
    assert len(line) == 100
    assert isinstance(feed(head(line, "Host: h"), Limits(max_request_line=100))[0], Request)
