"""wsgi.input over any body source: read, readline, readlines, iteration."""

from __future__ import annotations

import pytest

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
