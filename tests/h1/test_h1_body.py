"""Body framing: Content-Length, chunked, trailers and the body limit (RFC 9112 6-7)."""

from __future__ import annotations

import pytest
from h1_helpers import error_of, feed, head, messages, request_of, status_of

from httpkit.errors import ProtocolError
from httpkit.h1 import NEED_DATA, Data, EndOfMessage, Limits, ServerConnection

POST = "POST /upload HTTP/1.1"


def chunked(*lines: str) -> bytes:
    """A chunked request whose body is ``lines`` joined by CRLF."""
    return head(POST, "Host: h", "Transfer-Encoding: chunked") + "\r\n".join(lines).encode(
        "latin-1"
    )


def test_content_length_body_arrives_then_ends() -> None:
    events = feed(head(POST, "Host: h", "Content-Length: 11") + b"hello world")
    [(request, body, end)] = messages(events)
    assert (request.content_length, request.chunked, body) == (11, False, b"hello world")
    assert end.trailers == []


def test_body_is_given_as_it_arrives() -> None:
    conn = ServerConnection()
    conn.receive_data(head(POST, "Host: h", "Content-Length: 6") + b"abc")
    conn.next_event()
    assert conn.next_event() == Data(b"abc")
    assert conn.next_event() is NEED_DATA
    conn.receive_data(b"def")
    assert conn.next_event() == Data(b"def")
    assert isinstance(conn.next_event(), EndOfMessage)


def test_request_without_framing_has_an_empty_body() -> None:
    # RFC 9112 6.3: no Content-Length, no Transfer-Encoding: the body is empty.
    [(request, body, _)] = messages(feed(head(POST, "Host: h")))
    assert (request.content_length, body) == (0, b"")


def test_a_get_may_carry_a_framed_body() -> None:
    [(_, body, _)] = messages(feed(head("GET / HTTP/1.1", "Host: h", "Content-Length: 2") + b"hi"))
    assert body == b"hi"


@pytest.mark.parametrize("value", ["+5", "-5", "0x5", "5_0", "5.0", "", "\u0665", "5 5", "1e3"])
def test_content_length_must_be_plain_digits(value: str) -> None:
    # int() would take "+5", "5_0" and Arabic-Indic digits; the grammar is 1*DIGIT.
    data = head(POST, "Host: h")[:-2] + f"Content-Length: {value}\r\n\r\n".encode()
    assert status_of(data) == 400


def test_equal_duplicate_lengths_are_accepted() -> None:
    request = request_of(head(POST, "Host: h", "Content-Length: 3", "Content-Length: 3, 3"))
    assert request.content_length == 3


def test_differing_duplicate_lengths_are_refused() -> None:
    assert status_of(head(POST, "Host: h", "Content-Length: 3", "Content-Length: 4")) == 400
    assert status_of(head(POST, "Host: h", "Content-Length: 3, 4")) == 400


def test_huge_content_length_gets_413_without_a_huge_int() -> None:
    assert status_of(head(POST, "Host: h", "Content-Length: " + "9" * 5000)) == 413


def test_body_limit_is_decided_from_content_length_before_reading() -> None:
    conn = ServerConnection(Limits(max_body=10))
    conn.receive_data(head(POST, "Host: h", "Content-Length: 11"))
    with pytest.raises(ProtocolError) as info:
        conn.next_event()
    assert info.value.status == 413


def test_unlimited_body_accepts_a_large_declared_length() -> None:
    request = request_of(
        head(POST, "Host: h", "Content-Length: 5000000000"), Limits(max_body=None)
    )
    assert request.content_length == 5_000_000_000


def test_chunked_body_is_dechunked_with_trailers() -> None:
    events = feed(
        chunked("5", "hello", '6;name=value;q="a \\" b"', " world", "0", "X-Sum: 1", "", "")
    )
    [(request, body, end)] = messages(events)
    assert (request.chunked, request.content_length, body) == (True, None, b"hello world")
    assert end.trailers == [("x-sum", "1")]


def test_chunk_sizes_are_hex_with_leading_zeros_allowed() -> None:
    [(_, body, _)] = messages(feed(chunked("0000A", "0123456789", "0", "", "")))
    assert body == b"0123456789"


@pytest.mark.parametrize(
    "size_line",
    ["+5", "0x5", " 5", "5 ", "-5", "5;", "5; =x", "5;a=\x01", '5;a="unterminated', "g", ""],
)
def test_malformed_chunk_size_lines_get_400(size_line: str) -> None:
    assert status_of(chunked(size_line, "hello", "0", "", "")) == 400


def test_chunk_size_length_is_bounded() -> None:
    assert status_of(chunked("0" * 17 + "1", "x", "0", "", "")) == 400


def test_chunk_extensions_are_bounded() -> None:
    limits = Limits(max_chunk_extension=50)
    assert status_of(chunked("5;x=" + "a" * 60, "hello", "0", "", ""), limits) == 400
    # refused while still arriving: the size line never has to end
    assert status_of([chunked("5;x=" + "a" * 80)], limits) == 400


def test_chunk_data_must_be_followed_by_exactly_crlf() -> None:
    assert status_of(chunked("5", "helloX", "0", "", "")) == 400
    assert status_of(chunked("5", "hello\n0", "", "")) == 400


def test_bare_lf_after_a_chunk_size_is_refused() -> None:
    assert status_of([chunked("5\nhello")]) == 400


def test_malformed_trailers_get_400() -> None:
    assert status_of(chunked("0", "X-Bad : 1", "", "")) == 400
    assert status_of(chunked("0", " folded", "", "")) == 400


def test_trailers_never_change_the_framing() -> None:
    assert status_of(chunked("0", "Content-Length: 5", "", "")) == 400
    assert status_of(chunked("0", "Transfer-Encoding: chunked", "", "")) == 400


def test_a_singleton_field_repeated_in_the_trailers_gets_400() -> None:
    # RFC 9110 5.3 forbids the repetition "whether in the headers or trailers".
    error = error_of(chunked("0", "Date: a", "Date: b", "", ""))
    assert error.status == 400 and "more than one Date field" in str(error)
    [(_, _, end)] = messages(feed(chunked("0", "X-Sum: 1", "X-Sum: 2", "", "")))
    assert end.trailers == [("x-sum", "1"), ("x-sum", "2")]


def test_trailers_count_against_the_header_limits() -> None:
    limits = Limits(max_header_count=3)  # the head has 2 fields: room for 1 trailer
    ok = chunked("0", "T1: 1", "", "")
    assert messages(feed(ok, limits))[0][2].trailers == [("t1", "1")]
    assert status_of(chunked("0", "T1: 1", "T2: 2", "", ""), limits) == 431
    small = Limits(max_header_bytes=200)
    assert status_of([chunked("0", "T: " + "x" * 300)], small) == 431


def test_chunked_body_over_the_limit_gets_413_before_the_chunk_is_read() -> None:
    limits = Limits(max_body=10)
    assert status_of([chunked("5", "hello", "6", "")], limits) == 413


@pytest.mark.parametrize(
    ("coding", "status"),
    [
        ("gzip, chunked", 501),  # a coding we do not decode
        ("br, chunked", 501),
        ("chunked, gzip", 400),  # chunked must be last (RFC 9112 6.3)
        ("chunked, chunked", 400),
        ("gzip", 400),
        ("identity", 400),
        ("chunked;x=1", 400),
        ("(bad), chunked", 400),
    ],
)
def test_transfer_codings_other_than_chunked_are_refused(coding: str, status: int) -> None:
    assert status_of(head(POST, "Host: h", f"Transfer-Encoding: {coding}")) == status


def test_transfer_encoding_is_case_insensitive_and_may_be_split() -> None:
    request = request_of(head(POST, "Host: h", "Transfer-Encoding: , Chunked"))
    assert request.chunked is True


@pytest.mark.parametrize("value", ["", " ", ", ,"])
def test_an_empty_transfer_encoding_is_not_taken_for_none(value: str) -> None:
    data = head(POST, "Host: h", "Content-Length: 5", f"Transfer-Encoding:{value}") + b"hello"
    assert "empty Transfer-Encoding" in str(error_of(data))


def test_transfer_encoding_in_http_1_0_is_refused() -> None:
    assert status_of(head("POST / HTTP/1.0", "Transfer-Encoding: chunked")) == 400


def test_content_length_with_transfer_encoding_is_refused() -> None:
    data = head(POST, "Host: h", "Content-Length: 5", "Transfer-Encoding: chunked")
    assert "Content-Length and Transfer-Encoding" in str(error_of(data))


def test_eof_in_the_middle_of_a_body_is_an_incomplete_request() -> None:
    error = error_of(head(POST, "Host: h", "Content-Length: 5") + b"abc")
    assert (error.status, "incomplete" in str(error)) == (400, True)
    assert status_of(chunked("5", "hel")) == 400


def test_a_chunked_body_trickled_byte_by_byte_arrives_whole() -> None:
    data = chunked("5;a=b", "hello", "1", "\n", "0", "X-T: 1", "", "")
    [(_, body, end)] = messages(feed([data[i : i + 1] for i in range(len(data))]))
    assert (body, end.trailers) == (b"hello\n", [("x-t", "1")])


def test_a_crlf_after_chunk_data_may_arrive_in_the_next_read() -> None:
    data = chunked("5", "hello", "0", "", "")
    cut = data.index(b"hello") + 5
    for pieces in ([data[:cut], data[cut:]], [data[: cut + 1], data[cut + 1 :]]):
        assert messages(feed(pieces))[0][1] == b"hello"


def test_trailers_trickled_byte_by_byte_are_parsed_and_bounded() -> None:
    data = chunked("0", "X-A: 1", "X-B: 2", "", "")
    end = messages(feed([data[i : i + 1] for i in range(len(data))]))[0][2]
    assert end.trailers == [("x-a", "1"), ("x-b", "2")]
    endless = [chunked("0", "X-Pad: ")] + [b"p"] * 3000  # never a CRLF CRLF
    assert status_of(endless, Limits(max_header_bytes=2000)) == 431


def test_bare_lf_in_trailers_is_refused_before_they_end() -> None:
    assert status_of([chunked("0", "X-A: 1\nX-B: 2")]) == 400
