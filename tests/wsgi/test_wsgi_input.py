"""wsgi.input over any body source: read, readline, readlines, iteration."""

from __future__ import annotations

import time
from typing import Any

import pytest
import webob
import webob.dec

from httpkit.wsgi import InputStream


class Trickle:
    """A body source that gives at most ``step`` bytes per read, like a slow client."""

    def __init__(self, data: bytes, step: int = 3) -> None:
        self.data = data
        self.step = step
        self.reads = 0

    def read(self, size: int = -1) -> bytes:
        self.reads += 1
        take = self.step if size < 0 else min(size, self.step)
        if size < 0:
            piece, self.data = self.data, b""
            return piece
        piece, self.data = self.data[:take], self.data[take:]
        return piece


def test_read_sizes_and_end() -> None:
    stream = InputStream(Trickle(b"abcdefgh"))
    assert stream.read(2) == b"ab"
    assert stream.read() == b"cdefgh"
    assert stream.read() == b""
    assert stream.read(10) == b""


def test_readline_across_pieces_and_limits() -> None:
    stream = InputStream(Trickle(b"first line\nsecond\nlast"))
    assert stream.readline() == b"first line\n"
    assert stream.readline(3) == b"sec"
    assert stream.readline() == b"ond\n"
    assert stream.read(2) == b"la"
    assert stream.readline() == b"st"
    assert stream.readline() == b""


def test_readlines_iteration_and_hint() -> None:
    assert InputStream(Trickle(b"a\nb\nc")).readlines() == [b"a\n", b"b\n", b"c"]
    assert InputStream(Trickle(b"a\nb\nc")).readlines(1) == [b"a\n"]
    assert list(InputStream(Trickle(b"x\ny\n"))) == [b"x\n", b"y\n"]


@pytest.mark.parametrize("size", [None, -1])
def test_read_all_includes_what_readline_buffered(size: int | None) -> None:
    stream = InputStream(Trickle(b"head\nbody and more", step=100))
    assert stream.readline() == b"head\n"
    assert stream.read(size) == b"body and more"


def test_read_n_returns_n_bytes_however_the_body_is_cut() -> None:
    # File semantics: a short read means the end of the body (WebOb relies on it).
    stream = InputStream(Trickle(b"0123456789abcdef", step=3))
    assert stream.read(10) == b"0123456789"
    assert stream.read(10) == b"abcdef"
    assert stream.read(10) == b""


def test_read_after_readline_fills_from_the_source() -> None:
    stream = InputStream(Trickle(b"ab\ncdefghij", step=100))
    assert stream.readline() == b"ab\n"
    source_stream = InputStream(Trickle(b"ab\ncdefghij", step=4))
    assert source_stream.readline() == b"ab\n"
    assert source_stream.read(6) == b"cdefgh"
    assert stream.read(0) == b""


def test_read1_returns_what_has_arrived() -> None:
    stream = InputStream(Trickle(b"0123456789", step=3))
    assert stream.read1(10) == b"012"
    assert stream.read1() == b"345"
    assert stream.read1(1) == b"6"
    assert stream.read(10) == b"789"
    assert stream.read1(10) == b""


def test_webob_reads_a_body_sent_in_two_parts(serve: Any, raw_client: Any) -> None:
    @webob.dec.wsgify
    def digest(request: webob.Request) -> webob.Response:
        body = request.body
        return webob.Response(f"{len(body)} {body[:1].decode()}{body[-1:].decode()}")

    size = 80 * 1024
    head = f"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: {size}\r\n\r\n".encode()
    with serve(digest) as server:
        client = raw_client(server.port)
        client.send(head + b"a" + b"m" * (size // 2 - 1))
        time.sleep(0.05)  # the second half arrives in a later read
        client.send(b"m" * (size // 2 - 1) + b"z")
        status, _, body = client.read_response()
    assert (status, body) == (200, f"{size} az".encode())
