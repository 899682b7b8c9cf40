"""Header fields, Host, Connection and Expect (RFC 9112 5, RFC 9110 5, 7.2, 10.1.1)."""

from __future__ import annotations

import pytest
from h1_helpers import error_of, feed, head, request_of, status_of

from httpkit.h1 import Limits, Request

GET = "GET / HTTP/1.1"


def test_names_are_lower_cased_and_values_trimmed_of_sp_and_htab_only() -> None:
    request = request_of(head(GET, "Host: h", "X-Thing: \t a  b \t", "Accept:text/html"))
    assert request.headers == [("host", "h"), ("x-thing", "a  b"), ("accept", "text/html")]


def test_order_and_repetitions_are_kept_and_header_joins_them() -> None:
    request = request_of(head(GET, "Host: h", "Via: 1", "X: y", "Via: 2"))
    assert [name for name, _ in request.headers] == ["host", "via", "x", "via"]
    assert request.header("via") == "1, 2"
    assert request.header("missing") is None


def test_obs_text_is_allowed_in_values() -> None:
    assert request_of(head(GET, "Host: h", "X-Name: caf\xe9")).header("x-name") == "caf\xe9"


def test_empty_value_is_allowed() -> None:
    assert request_of(head(GET, "Host: h", "X-Empty:")).header("x-empty") == ""


@pytest.mark.parametrize(
    ("field", "reason"),
    [
        ("X-A : b", "whitespace before the colon"),
        ("X-A\t: b", "whitespace before the colon"),
        ("X-A b", "without a colon"),
        ("X A: b", "invalid header name"),
        ("X-\xe9: b", "invalid header name"),
        (": b", "invalid header name"),
        ("X-A: b\x00c", "control character"),
        ("X-A: b\x7fc", "control character"),
        ("X-A: b\x0bc", "control character"),
        ("X-A: b\rc", "bare CR"),
    ],
)
def test_malformed_field_lines_get_400(field: str, reason: str) -> None:
    error = error_of(head(GET, "Host: h", field))
    assert error.status == 400
    assert reason in str(error)


def test_obs_fold_is_rejected() -> None:
    error = error_of(head(GET, "Host: h", "X-A: b", " continued"))
    assert error.status == 400
    assert "obs-fold" in str(error)


def test_bare_lf_between_fields_is_refused_without_waiting() -> None:
    error = error_of([b"GET / HTTP/1.1\r\nHost: h\nX: y\r\n"])
    assert error.status == 400
    assert "LF" in str(error)


def test_a_crlf_split_across_reads_is_not_a_bare_lf() -> None:
    data = head(GET, "Host: h", "X: y")
    pieces = [data[:15], data[15:16], data[16:24], data[24:]]  # split inside two CRLFs
    assert pieces[0].endswith(b"\r") and isinstance(feed(pieces)[0], Request)


def test_http_1_1_needs_a_host() -> None:
    assert "Host" in str(error_of(head(GET, "Accept: */*")))


@pytest.mark.parametrize("version", ["1.0", "1.1"])
def test_two_hosts_are_refused(version: str) -> None:
    assert status_of(head(f"GET / HTTP/{version}", "Host: a", "Host: b")) == 400


@pytest.mark.parametrize("value", ["a b", "a/b", "a@b:80", "a:b", "[::1"])
def test_invalid_host_values_are_refused(value: str) -> None:
    assert status_of(head(GET, f"Host: {value}")) == 400


@pytest.mark.parametrize("value", ["example.com", "example.com:8080", "[::1]:80", "10.0.0.1", ""])
def test_valid_host_values_are_accepted(value: str) -> None:
    assert request_of(head(GET, f"Host: {value}")).header("host") == value


def test_header_count_over_the_limit_gets_431() -> None:
    fields = [f"X-{i}: v" for i in range(10)]
    assert status_of(head(GET, "Host: h", *fields), Limits(max_header_count=10)) == 431
    assert request_of(head(GET, *fields[:9], "Host: h"), Limits(max_header_count=10))


def test_header_section_over_the_limit_gets_431_before_it_ends() -> None:
    limits = Limits(max_header_bytes=1000)
    pieces = [b"GET / HTTP/1.1\r\nHost: h\r\n"] + [b"X-Pad: " + b"p" * 90 + b"\r\n"] * 20
    assert status_of(pieces, limits) == 431


@pytest.mark.parametrize(
    ("version", "connection", "keep_alive"),
    [
        ("1.1", None, True),
        ("1.1", "close", False),
        ("1.1", "Keep-Alive, CLOSE", False),
        ("1.0", None, False),
        ("1.0", "keep-alive", True),
        ("1.0", "Keep-Alive", True),
        ("1.0", "keep-alive, close", False),
    ],
)
def test_keep_alive_follows_version_and_connection(
    version: str, connection: str | None, keep_alive: bool
) -> None:
    fields = ["Host: h"] + ([f"Connection: {connection}"] if connection else [])
    assert request_of(head(f"GET / HTTP/{version}", *fields)).keep_alive is keep_alive


def test_expect_100_continue_is_reported_for_an_http_1_1_body() -> None:
    request = request_of(
        head("POST / HTTP/1.1", "Host: h", "Expect: 100-Continue", "Content-Length: 5")
    )
    assert request.expect_continue is True


def test_expect_100_continue_is_ignored_from_http_1_0() -> None:
    # RFC 9110 10.1.1: a server MUST ignore a 100-continue expectation in HTTP/1.0.
    request = request_of(head("POST / HTTP/1.0", "Expect: 100-continue", "Content-Length: 5"))
    assert request.expect_continue is False


def test_expect_100_continue_without_a_body_needs_no_interim_response() -> None:
    assert request_of(head(GET, "Host: h", "Expect: 100-continue")).expect_continue is False


@pytest.mark.parametrize("value", ["200-ok", "100-continue, foo", "100-continue=1"])
def test_other_expectations_get_417(value: str) -> None:
    assert status_of(head(GET, "Host: h", f"Expect: {value}", "Content-Length: 1")) == 417


# The request fields whose grammar allows one value, not a list (RFC 9110, RFC 9111).
SINGLETONS = {
    "Authorization": "Basic YTpi",  # RFC 9110 11.6.2
    "Content-Location": "/a",  # 8.7
    "Content-Range": "bytes 0-4/10",  # 14.4
    "Content-Type": "text/plain",  # 8.3
    "Date": "Sun, 06 Nov 1994 08:49:37 GMT",  # 6.6.1
    "From": "a@example.com",  # 10.1.2
    "If-Modified-Since": "Sun, 06 Nov 1994 08:49:37 GMT",  # 13.1.3
    "If-Range": '"v1"',  # 13.1.5
    "If-Unmodified-Since": "Sun, 06 Nov 1994 08:49:37 GMT",  # 13.1.4
    "Max-Forwards": "3",  # 7.6.2
    "Proxy-Authorization": "Basic YTpi",  # 11.7.2
    "Range": "bytes=0-4",  # 14.2
    "Referer": "http://h/a",  # 10.1.3
    "User-Agent": "test/1.0",  # 10.1.5
}


@pytest.mark.parametrize("name", SINGLETONS)
def test_a_singleton_field_once_is_accepted(name: str) -> None:
    value = SINGLETONS[name]
    assert request_of(head(GET, "Host: h", f"{name}: {value}")).header(name.lower()) == value


@pytest.mark.parametrize("name", SINGLETONS)
@pytest.mark.parametrize("same", [False, True], ids=["different", "identical"])
def test_a_repeated_singleton_field_gets_400_naming_it(name: str, same: bool) -> None:
    # RFC 9110 5.3: a field that is not a list must not be repeated; joined with a comma
    # the values would mean something else ("Sun, 06 Nov ..., Mon, 07 Nov ...").
    # Identical repeats are refused as well, as for Host (see docs/protocol.rst).
    value = SINGLETONS[name]
    other = value if same else value + "x"
    error = error_of(head(GET, f"{name}: {value}", "Host: h", f"{name.lower()}: {other}"))
    assert error.status == 400
    assert f"more than one {name} field" in str(error) and "RFC 9110 5.3" in str(error)


@pytest.mark.parametrize(
    "name",
    ["Accept", "Accept-Encoding", "Cache-Control", "If-Match", "If-None-Match", "Via", "X-A"],
)
def test_list_fields_and_unknown_fields_may_repeat(name: str) -> None:
    request = request_of(head(GET, "Host: h", f"{name}: a", f"{name}: b"))
    assert request.header(name.lower()) == "a, b"


def test_cookie_may_repeat() -> None:
    # RFC 6265 5.4 wants one Cookie line, but HTTP/2 splits it (RFC 9113 8.2.3) and an
    # intermediary turning such a request into HTTP/1.1 may pass the lines on as they are.
    request = request_of(head(GET, "Host: h", "Cookie: a=1", "Cookie: b=2"))
    assert [value for name, value in request.headers if name == "cookie"] == ["a=1", "b=2"]


def test_a_comma_in_one_singleton_line_is_its_value() -> None:
    # One field line is one value; only a second line is a repetition.
    request = request_of(head(GET, "Host: h", "If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT"))
    assert request.header("if-modified-since") == "Sun, 06 Nov 1994 08:49:37 GMT"
