"""BodyReader over a source that returns short reads: file semantics, length and limit."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable

import pytest

from httpkit.bodyreader import READ_BLOCK, BodyReader
from httpkit.errors import ProtocolError, RequestBodyError


class Trickle:
    """A body source that gives at most ``step`` bytes per read, like a slow client."""

    def __init__(self, data: bytes, step: int = 3) -> None:
        self.data = data
        self.step = step
        self.asked: list[int] = []  # the size of every read

    def read(self, size: int = -1) -> bytes:
        self.asked.append(size)
        if size < 0:
            piece, self.data = self.data, b""
            return piece
        take = min(size, self.step)
        piece, self.data = self.data[:take], self.data[take:]
        return piece


# -- file semantics -----------------------------------------------------------------------


def test_read_sizes_and_end() -> None:
    stream = BodyReader(Trickle(b"abcdefgh"))
    assert stream.read(2) == b"ab"
    assert stream.read() == b"cdefgh"
    assert stream.read() == b""
    assert stream.read(10) == b""


def test_read_n_returns_n_bytes_however_the_body_is_cut() -> None:
    # File semantics: a short read means the end of the body (WebOb relies on it).
    stream = BodyReader(Trickle(b"0123456789abcdef", step=3))
    assert stream.read(10) == b"0123456789"
    assert stream.read(10) == b"abcdef"
    assert stream.read(10) == b""


def test_read1_returns_what_has_arrived() -> None:
    stream = BodyReader(Trickle(b"0123456789", step=3))
    assert stream.read1(10) == b"012"
    assert stream.read1() == b"345"
    assert stream.read1(1) == b"6"
    assert stream.read(10) == b"789"
    assert stream.read1(10) == b""


def test_readline_across_pieces_and_limits() -> None:
    stream = BodyReader(Trickle(b"first line\nsecond\nlast"))
    assert stream.readline() == b"first line\n"
    assert stream.readline(3) == b"sec"
    assert stream.readline() == b"ond\n"
    assert stream.read(2) == b"la"
    assert stream.readline() == b"st"
    assert stream.readline() == b""


def test_readline_size_within_what_is_buffered() -> None:
    stream = BodyReader(Trickle(b"abcdef\ngh", step=100))
    assert stream.readline(2) == b"ab"
    assert stream.readline(0) == b""
    assert stream.readline(None) == b"cdef\n"
    assert stream.readline() == b"gh"


def test_readlines_iteration_and_hint() -> None:
    assert BodyReader(Trickle(b"a\nb\nc")).readlines() == [b"a\n", b"b\n", b"c"]
    assert BodyReader(Trickle(b"a\nb\nc")).readlines(1) == [b"a\n"]
    assert BodyReader(Trickle(b"aa\nbb\ncc")).readlines(4) == [b"aa\n", b"bb\n"]
    assert list(BodyReader(Trickle(b"x\ny\n"))) == [b"x\n", b"y\n"]


@pytest.mark.parametrize("size", [None, -1])
def test_read_all_includes_what_readline_buffered(size: int | None) -> None:
    stream = BodyReader(Trickle(b"head\nbody and more", step=100))
    assert stream.readline() == b"head\n"
    assert stream.read(size) == b"body and more"


def test_read_and_read1_start_with_what_readline_buffered() -> None:
    stream = BodyReader(Trickle(b"ab\ncdefghij", step=100))
    assert stream.readline() == b"ab\n"
    assert stream.read1(3) == b"cde"
    assert stream.read(0) == b""
    assert stream.read(4) == b"fghi"
    assert stream.read(4) == b"j"


def test_zero_sized_reads_do_not_touch_the_source() -> None:
    source = Trickle(b"data")
    stream = BodyReader(source)
    assert (stream.read(0), stream.read1(0), stream.readline(0)) == (b"", b"", b"")
    assert source.asked == []


def test_reading_everything_of_an_unbounded_body_is_one_call_of_the_source() -> None:
    source = Trickle(b"x" * 1000)
    assert BodyReader(source).read() == b"x" * 1000
    assert source.asked == [-1]


def test_the_source_is_asked_for_one_block_at_a_time() -> None:
    # A large length, limit or size must not make the source allocate that much at once.
    size = 3 * READ_BLOCK
    for bounds in ({"length": size}, {"limit": 10**12}):
        source = Trickle(b"y" * size, step=size)
        assert BodyReader(source, **bounds).read() == b"y" * size
        assert max(source.asked) == READ_BLOCK, bounds
    source = Trickle(b"y" * size, step=size)
    stream = BodyReader(source)
    assert len(stream.read1(10**9)) == READ_BLOCK
    assert len(stream.read(10**9)) == size - READ_BLOCK
    assert max(source.asked) == READ_BLOCK


# -- an announced length -------------------------------------------------------------------


def test_a_body_of_announced_length_stops_there() -> None:
    source = Trickle(b"0123456789", step=4)
    stream = BodyReader(source, 6)
    assert stream.read(100) == b"012345"
    assert stream.read() == b""
    assert stream.readline() == b""
    assert source.data == b"6789"  # never asked for what lies beyond


def test_readline_does_not_read_past_the_announced_length() -> None:
    source = Trickle(b"one\ntwo\nthree\n", step=100)
    stream = BodyReader(source, 8)
    assert list(stream) == [b"one\n", b"two\n"]
    assert source.data == b"three\n"


READERS: dict[str, Callable[[BodyReader], object]] = {
    "read": lambda stream: stream.read(),
    "read-sized": lambda stream: [stream.read(4) for _ in range(5)],
    "read1": lambda stream: [stream.read1() for _ in range(5)],
    "readline": lambda stream: stream.readlines(),
}


@pytest.mark.parametrize("reader", sorted(READERS))
def test_a_body_shorter_than_announced_is_a_400(reader: str) -> None:
    stream = BodyReader(Trickle(b"short", step=2), 10)
    with pytest.raises(RequestBodyError, match="shorter than its Content-Length") as caught:
        READERS[reader](stream)
    assert caught.value.status == 400
    assert isinstance(caught.value, ProtocolError)


# -- a limit -------------------------------------------------------------------------------


@pytest.mark.parametrize("reader", sorted(READERS))
def test_a_body_over_the_limit_is_a_413(reader: str) -> None:
    stream = BodyReader(Trickle(b"x\n" * 10, step=3), limit=7)
    with pytest.raises(RequestBodyError, match="larger than 7 bytes") as caught:
        READERS[reader](stream)
    assert caught.value.status == 413


def test_a_body_of_exactly_the_limit_is_read_whole() -> None:
    assert BodyReader(Trickle(b"x" * 20), limit=20).read() == b"x" * 20
    assert BodyReader(Trickle(b""), limit=0).read() == b""


def test_reading_again_after_the_413_raises_again() -> None:
    stream = BodyReader(Trickle(b"x" * 20), limit=5)
    with pytest.raises(RequestBodyError):
        stream.read()
    with pytest.raises(RequestBodyError):
        stream.read1()


def test_limit_to_counts_what_was_read_before() -> None:
    stream = BodyReader(Trickle(b"x" * 20, step=100))
    assert stream.read(4) == b"xxxx"
    stream.limit_to(10)
    assert stream.read(6) == b"x" * 6
    with pytest.raises(RequestBodyError):
        stream.read(1)


def test_limit_to_counts_what_readline_buffered() -> None:
    stream = BodyReader(Trickle(b"a\n" + b"b" * 20, step=100))
    assert stream.readline() == b"a\n"
    with pytest.raises(RequestBodyError):
        stream.limit_to(10)  # 22 bytes already came from the source


def test_a_limit_only_comes_down() -> None:
    stream = BodyReader(Trickle(b"x" * 20), limit=8)
    stream.limit_to(100)  # an inner router with a higher limit keeps the outer one
    with pytest.raises(RequestBodyError, match="larger than 8 bytes"):
        stream.read()
    lowered = BodyReader(Trickle(b"x" * 20), limit=100)
    lowered.limit_to(8)
    with pytest.raises(RequestBodyError, match="larger than 8 bytes"):
        lowered.read()


def test_an_announced_length_over_the_limit_is_a_413_at_once() -> None:
    with pytest.raises(RequestBodyError) as caught:
        BodyReader(Trickle(b"x" * 20), 20, limit=10)
    assert caught.value.status == 413
    stream = BodyReader(Trickle(b"x" * 20), 20, limit=20)
    assert stream.read() == b"x" * 20


def test_a_negative_limit_is_refused() -> None:
    with pytest.raises(ValueError, match="byte count"):
        BodyReader(Trickle(b""), limit=-1)


def test_the_ground_floor_loads_no_other_layer() -> None:
    code = (
        "import sys, httpkit.bodyreader, httpkit.wsgitypes; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('webob', 'routes', 'asyncio', 'httpkit') "
        "and m not in ('httpkit', 'httpkit.errors', 'httpkit.bodyreader', 'httpkit.wsgitypes')))"
    )
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert output.strip() == "[]"
