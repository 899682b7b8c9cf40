"""Framing responses: Content-Length, chunked, close-delimited, keep-alive, validation."""

from __future__ import annotations

import pytest
from h1_helpers import request_of

from httpkit.errors import ResponseError
from httpkit.h1 import CONTINUE, Request, ResponseFramer


def req(method: str = "GET", version: str = "1.1", *fields: str) -> Request:
    host = ["Host: h"] if version == "1.1" else []
    lines = [f"{method} / HTTP/{version}", *host, *fields]
    return request_of("".join(f"{line}\r\n" for line in lines).encode() + b"\r\n")


def whole(framer: ResponseFramer, head: bytes, *pieces: bytes) -> bytes:
    return head + b"".join(framer.body(piece) for piece in pieces) + framer.end()


def test_continue_is_an_interim_http_1_1_response() -> None:
    assert CONTINUE == b"HTTP/1.1 100 Continue\r\n\r\n"


def test_known_length_is_sent_as_content_length_and_keeps_alive() -> None:
    framer = ResponseFramer(req())
    head = framer.head(200, "OK", [("Content-Type", "text/plain")], body_length=5)
    assert whole(framer, head, b"hel", b"lo") == (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello"
    )
    assert framer.keep_alive is True


def test_the_applications_content_length_wins() -> None:
    framer = ResponseFramer(req())
    head = framer.head(200, "OK", [("content-length", "3")], body_length=99)
    assert head.count(b"Content-Length") == 1 and b"Content-Length: 3\r\n" in head


@pytest.mark.parametrize("value", ["+3", "0x3", "3 4", "-1", "", "1" * 30])
def test_an_invalid_application_content_length_is_refused(value: str) -> None:
    with pytest.raises(ResponseError, match="Content-Length"):
        ResponseFramer(req()).head(200, "OK", [("Content-Length", value)])


def test_unknown_length_is_chunked_for_http_1_1() -> None:
    framer = ResponseFramer(req())
    head = framer.head(200, "OK", [])
    assert b"Transfer-Encoding: chunked\r\n" in head
    # An empty piece sends nothing: an empty chunk would end the body early.
    assert whole(framer, b"", b"hello", b"", b"x" * 26) == (
        b"5\r\nhello\r\n1a\r\n" + b"x" * 26 + b"\r\n0\r\n\r\n"
    )
    assert framer.keep_alive is True


def test_unknown_length_for_http_1_0_is_close_delimited() -> None:
    framer = ResponseFramer(req("GET", "1.0", "Connection: keep-alive"))
    head = framer.head(200, "OK", [])
    assert b"Transfer-Encoding" not in head and b"Content-Length" not in head
    assert b"Connection: close\r\n" in head
    assert whole(framer, b"", b"abc") == b"abc"
    assert framer.keep_alive is False


def test_http_1_0_keep_alive_is_honoured_only_with_a_known_length() -> None:
    framer = ResponseFramer(req("GET", "1.0", "Connection: keep-alive"))
    head = framer.head(200, "OK", [], body_length=0)
    assert b"Connection: keep-alive\r\n" in head and framer.keep_alive is True
    plain = ResponseFramer(req("GET", "1.0"))
    plain.head(200, "OK", [], body_length=0)
    assert plain.keep_alive is False


@pytest.mark.parametrize(("method", "status"), [("HEAD", 200), ("GET", 204), ("GET", 304)])
def test_no_body_is_sent_for_head_204_and_304(method: str, status: int) -> None:
    framer = ResponseFramer(req(method))
    head = framer.head(status, "X", [])
    assert b"Transfer-Encoding" not in head
    assert whole(framer, b"", b"ignored body") == b""
    assert framer.keep_alive is True


def test_head_response_keeps_the_length_a_get_would_have() -> None:
    framer = ResponseFramer(req("HEAD"))
    assert b"Content-Length: 42\r\n" in framer.head(200, "OK", [], body_length=42)
    assert framer.body(b"x" * 42) == b""


def test_no_content_length_on_204() -> None:
    # RFC 9110 8.6: a server MUST NOT send Content-Length in a 204 response.
    head = ResponseFramer(req()).head(204, "X", [("Content-Length", "5")])
    assert b"Content-Length" not in head


def test_closing_is_announced_for_http_1_1() -> None:
    for framer, kwargs, headers in [
        (ResponseFramer(req()), {"close": True}, []),
        (ResponseFramer(req()), {}, [("Connection", "close")]),
        (ResponseFramer(req("GET", "1.1", "Connection: close")), {}, []),
        (ResponseFramer(None), {}, []),
    ]:
        head = framer.head(400, "Bad Request", headers, body_length=0, **kwargs)  # type: ignore[arg-type]
        assert head.count(b"Connection: close\r\n") == 1, head
        assert framer.keep_alive is False


def test_an_unparsable_request_is_answered_with_http_1_1_rules() -> None:
    framer = ResponseFramer(None)
    head = framer.head(400, "Bad Request", [])
    assert head.startswith(b"HTTP/1.1 400 Bad Request\r\n")
    assert b"Transfer-Encoding: chunked" in head


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("X-A", "b\r\nSet-Cookie: evil=1"),
        ("X-A", "b\nc"),
        ("X-A", "b\x00"),
        ("X-A", "b\x1b"),
        ("X-A\r\nEvil", "b"),
        ("X A", "b"),
        ("", "b"),
        ("X-A", "snow \u2603"),  # not latin-1 encodable
    ],
)
def test_headers_that_could_split_the_response_are_refused(name: str, value: str) -> None:
    with pytest.raises(ResponseError):
        ResponseFramer(req()).head(200, "OK", [(name, value)])


def test_obs_text_and_htab_are_allowed_in_values() -> None:
    head = ResponseFramer(req()).head(200, "OK", [("X-A", "caf\xe9\tok")], body_length=0)
    assert b"X-A: caf\xe9\tok\r\n" in head


@pytest.mark.parametrize(
    "name", ["Transfer-Encoding", "keep-alive", "Upgrade", "TE", "Trailer", "Proxy-Connection"]
)
def test_hop_by_hop_headers_from_the_application_are_refused(name: str) -> None:
    with pytest.raises(ResponseError, match="hop-by-hop"):
        ResponseFramer(req()).head(200, "OK", [(name, "x")])


@pytest.mark.parametrize("status", [99, 1000, "200", 200.0, True])
def test_status_must_be_a_three_digit_int(status: object) -> None:
    with pytest.raises(ResponseError, match="status"):
        ResponseFramer(req()).head(status, "OK", [])  # type: ignore[arg-type]


def test_reason_phrase_may_not_split_the_status_line() -> None:
    with pytest.raises(ResponseError, match="reason"):
        ResponseFramer(req()).head(200, "OK\r\nX: y", [])


def test_more_body_than_content_length_is_refused() -> None:
    framer = ResponseFramer(req())
    framer.head(200, "OK", [], body_length=3)
    framer.body(b"ab")
    with pytest.raises(ResponseError, match="Content-Length"):
        framer.body(b"cd")


def test_ending_short_of_content_length_is_refused() -> None:
    framer = ResponseFramer(req())
    framer.head(200, "OK", [("Content-Length", "3")])
    framer.body(b"ab")
    with pytest.raises(ResponseError, match="1 bytes short"):
        framer.end()


def test_calls_out_of_order_are_refused() -> None:
    framer = ResponseFramer(req())
    with pytest.raises(ResponseError, match="before head"):
        framer.body(b"x")
    with pytest.raises(ResponseError, match="before head"):
        framer.end()
    framer.head(200, "OK", [])
    with pytest.raises(ResponseError, match="already"):
        framer.head(200, "OK", [])
