"""Request bodies between the loop and the handler: spooled inline, streamed to a thread.

The body classes are tested on their own (push/read/pause/resume, a bounded stress test
of the one lock in StreamingBody), then through a connection on the fakes (spool
failures, bodies refused part-way, 100 Continue).
"""

from __future__ import annotations

import errno
import random
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from typing import IO, Any

import pytest
from fakes import BOUND, ManualThreads, connect, post

from httpkit.errors import ProtocolError
from httpkit.h1 import CONTINUE
from httpkit.server import reqbody
from httpkit.server.contract import ClientDisconnectedError, HandlerExchange
from httpkit.server.modes import ExecutionMode, InlineMode, ThreadMode
from httpkit.server.phase import Phase
from httpkit.server.reqbody import (
    BODY_HIGH_WATER,
    BODY_LOW_WATER,
    SPOOL_IN_MEMORY,
    SpooledBody,
    StreamingBody,
)

KiB = 1024


def echo_body(ex: HandlerExchange) -> Iterable[bytes]:
    body = ex.read()
    ex.start_response(200, "OK", [("Content-Length", str(len(body)))])
    return [body]


def chunked(*pieces: bytes, target: str = "/up") -> bytes:
    head = f"POST {target} HTTP/1.1\r\nHost: example.test\r\nTransfer-Encoding: chunked\r\n\r\n"
    return head.encode() + b"".join(b"%x\r\n%b\r\n" % (len(p), p) for p in pieces) + b"0\r\n\r\n"


# -- SpooledBody ----------------------------------------------------------------------


def test_spooled_body_reads_back_what_was_pushed_in_memory() -> None:
    body = SpooledBody()
    assert body.push(b"hello ") is False  # inline mode never pauses: the loop spools
    body.push(b"world")
    body.end()
    assert (body.complete, body.error) == (True, None)
    assert body.read(3) == b"hel"
    assert body.read(-1) == b"lo world"
    assert body.read(10) == b""


def test_spooled_body_above_the_memory_limit_goes_to_a_file_and_reads_back_exact() -> None:
    body = SpooledBody()
    data = bytes(range(256)) * (SPOOL_IN_MEMORY // 256 + 100)
    for start in range(0, len(data), 64 * KiB):
        body.push(data[start : start + 64 * KiB])
    body.end()
    got = bytearray()
    while piece := body.read(100 * KiB):
        got += piece
    assert got == data
    body.close()


def test_spooled_body_over_a_megabyte_is_served_inline_byte_exact() -> None:
    h = connect(echo_body)
    data = b"z" * (SPOOL_IN_MEMORY + 12345)
    request = post(data)
    for start in range(0, len(request), 256 * KiB):
        h.feed(request[start : start + 256 * KiB])
    h.run()
    [response] = h.responses()
    assert response.body == data


def test_spool_that_cannot_be_created_is_answered_503_with_retry_after(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_space() -> IO[bytes]:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(tempfile, "TemporaryFile", no_space)
    h = connect(echo_body, retry_after=7)
    request = post(b"q" * (SPOOL_IN_MEMORY + 1000))
    h.feed(request[: len(request) - 100])
    h.run()
    [response] = h.responses()
    assert response.status == 503
    assert response.header("retry-after") == "7"
    assert response.header("connection") == "close"
    assert h.calls == []
    assert h.phase is Phase.LINGER  # the rest of the body is discarded, then close
    h.feed(request[-100:])
    assert len(h.responses()) == 1


class FillingDisk:
    """A temporary file on a disk that fills up after ``room`` bytes."""

    def __init__(self, room: int) -> None:
        self.room = room

    def write(self, data: bytes) -> int:
        if len(data) > self.room:
            raise OSError(errno.ENOSPC, "No space left on device")
        self.room -= len(data)
        return len(data)

    def close(self) -> None:
        self.room = 0


def test_spool_filling_up_part_way_is_answered_503(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tempfile, "TemporaryFile", lambda: FillingDisk(SPOOL_IN_MEMORY + 1))
    h = connect(echo_body)
    request = post(b"q" * (2 * SPOOL_IN_MEMORY))
    for start in range(0, len(request), 128 * KiB):
        h.feed(request[start : start + 128 * KiB])
    h.run()
    assert [r.status for r in h.responses()] == [503]
    assert h.calls == []


# -- StreamingBody ----------------------------------------------------------------------


def test_streaming_push_asks_to_pause_exactly_once_above_the_high_water() -> None:
    resumes: list[None] = []
    body = StreamingBody(lambda: resumes.append(None))
    piece = b"p" * (16 * KiB)
    answers = [body.push(piece) for _ in range(3 * BODY_HIGH_WATER // len(piece))]
    crossed = BODY_HIGH_WATER // len(piece)  # the push that makes the buffer exceed it
    assert answers == [index == crossed for index in range(len(answers))]
    assert body.paused
    assert resumes == []


def test_streaming_read_below_the_low_water_resumes_exactly_once() -> None:
    resumes: list[None] = []
    body = StreamingBody(lambda: resumes.append(None))
    size = BODY_HIGH_WATER + 1
    assert body.push(b"r" * size) is True
    body.read(size - BODY_LOW_WATER)  # exactly at the low water: not below it
    assert resumes == []
    body.read(1)
    assert resumes == [None]
    assert not body.paused
    body.read(10)
    body.push(b"r" * 10)
    body.read(10)
    assert resumes == [None]
    # A new pause gets its own resume.
    assert body.push(b"r" * BODY_HIGH_WATER) is True
    body.read(BODY_HIGH_WATER)
    assert len(resumes) == 2


def test_streaming_read_without_size_collects_to_the_end() -> None:
    body = StreamingBody(lambda: None)
    body.push(b"ab")
    body.push(b"cd")
    body.end()
    assert body.read(-1) == b"abcd"
    assert body.read(-1) == b""


def test_streaming_body_error_comes_after_the_bytes_before_it() -> None:
    body = StreamingBody(lambda: None)
    body.push(b"abc")
    error = ProtocolError("chunked body exceeds 3 bytes", 413)
    body.end(error)
    assert body.read(2) == b"ab"
    assert body.read(5) == b"c"
    with pytest.raises(ProtocolError) as raised:
        body.read(5)
    assert raised.value is error


def test_streaming_reader_waiting_for_bytes_gives_up_when_the_client_leaves() -> None:
    body = StreamingBody(lambda: None)
    outcome: list[BaseException] = []

    def reader() -> None:
        try:
            body.read(10)
        except BaseException as error:
            outcome.append(error)

    thread = threading.Thread(target=reader)
    thread.start()
    time.sleep(0.01)  # let it wait (the result does not depend on it)
    body.connection_lost()
    thread.join(BOUND)
    assert not thread.is_alive()
    assert [type(error) for error in outcome] == [ClientDisconnectedError]


def test_streaming_body_under_contention_arrives_whole_and_never_hangs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A producer pausing and resuming as the loop does, a reader in small pieces.

    Small water marks make every upload cross them many times; a tiny switch interval
    makes the threads interleave inside the lock's critical sections.
    """
    monkeypatch.setattr(reqbody, "BODY_HIGH_WATER", 2 * KiB)
    monkeypatch.setattr(reqbody, "BODY_LOW_WATER", 512)
    rng = random.Random(20240611)
    old_interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    started = time.monotonic()
    pauses = 0
    try:
        for upload in range(300):
            size = rng.randrange(1, 24 * KiB)
            data = rng.randbytes(size)
            piece_size = rng.randrange(1, 3 * KiB)
            read_size = rng.choice([1, 7, 100, 700, 4 * KiB, -1])
            got, paused = stream_once(data, piece_size, read_size)
            assert got == data, f"upload {upload}: {len(got)} of {size} bytes"
            pauses += paused
    finally:
        sys.setswitchinterval(old_interval)
    assert pauses > 300  # the uploads did pause and resume, many times
    assert time.monotonic() - started < 10.0


def stream_once(data: bytes, piece_size: int, read_size: int) -> tuple[bytes, int]:
    """The bytes the reader got, and how many times the producer paused."""
    resumed = threading.Event()
    body = StreamingBody(resumed.set)
    failures: list[str] = []
    pauses = 0

    def produce() -> None:
        nonlocal pauses
        for start in range(0, len(data), piece_size):
            resumed.clear()
            if body.push(data[start : start + piece_size]):
                pauses += 1
                if not resumed.wait(BOUND):
                    failures.append(f"never resumed at byte {start}")
                    body.connection_lost()
                    return
        body.end()

    producer = threading.Thread(target=produce)
    producer.start()
    got = bytearray()
    try:
        while piece := body.read(read_size):
            got += piece
    except ClientDisconnectedError:
        pass
    producer.join(BOUND)
    assert not producer.is_alive(), "producer hung"
    assert failures == []
    return bytes(got), pauses


# -- bodies through a connection ------------------------------------------------------


def thread_pool(handler: Callable[[HandlerExchange], Iterable[bytes]]) -> ExecutionMode:
    return ThreadMode(handler, 2, 2)


MODES: dict[str, Callable[[Any], ExecutionMode]] = {"inline": InlineMode, "threads": ManualThreads}


@pytest.mark.parametrize(
    "mode",
    ["inline", "threads"],
)
def test_a_body_refused_part_way_is_answered_and_the_rest_discarded(
    mode: str,
) -> None:
    # RFC 9112 9.6: closing with the client still sending makes the kernel send RST,
    # which can destroy the 413 before the client reads it: linger instead.
    h = connect(echo_body, mode=MODES[mode], max_body=10)
    h.feed(chunked(b"a" * 20)[:-20])
    if mode == "threads":
        h.ctx.mode.run_next()  # type: ignore[attr-defined]
    h.run()
    [response] = h.responses()
    assert response.status == 413
    assert response.header("connection") == "close"
    assert h.transport.eof_written  # not closed at once: the client is still sending
    assert not h.transport.closed
    assert h.phase is Phase.LINGER


def test_inline_mode_sends_100_continue_as_soon_as_the_head_is_read() -> None:
    h = connect(echo_body)
    h.feed(post(b"hello", "Expect: 100-continue")[:-5])
    assert h.written == CONTINUE
    h.feed(b"hello")
    h.run()
    interim, final = h.responses()
    assert (interim.status, final.status, final.body) == (100, 200, b"hello")


def test_thread_mode_sends_100_continue_on_the_handlers_first_read() -> None:
    reading = threading.Event()

    def late_reader(ex: HandlerExchange) -> Iterable[bytes]:
        reading.wait(BOUND)
        return echo_body(ex)

    h = connect(late_reader, mode=thread_pool)
    try:
        h.feed(post(b"hello", "Expect: 100-continue")[:-5])
        h.run()
        assert h.written == b""  # the handler may answer without the body
        reading.set()
        h.run_until(lambda: h.written == CONTINUE)
        h.feed(b"hello")
        h.run_until(lambda: len(h.responses()) == 2)
        assert h.responses()[1].body == b"hello"
    finally:
        reading.set()
        h.ctx.mode.close(1.0)


def test_thread_mode_stops_reading_a_body_the_handler_is_behind_on_then_reads_on() -> None:
    go = threading.Event()

    def late_echo(ex: HandlerExchange) -> Iterable[bytes]:
        go.wait(BOUND)
        return echo_body(ex)

    h = connect(late_echo, mode=thread_pool)
    try:
        data = bytes(range(256)) * (4 * BODY_HIGH_WATER // 256)
        request, piece, fed = post(data), 64 * KiB, 0
        while h.transport.reading and fed < len(request):
            h.feed(request[fed : fed + piece])
            fed += piece
        assert not h.transport.reading  # memory stays bounded while the handler is busy
        assert fed <= BODY_HIGH_WATER + 2 * piece
        go.set()
        while fed < len(request):
            h.run_until(lambda: h.transport.reading)  # the client is read again
            h.feed(request[fed : fed + piece])
            fed += piece
        h.run_until(lambda: bool(h.responses()))
        assert h.responses()[0].body == data
    finally:
        go.set()
        h.ctx.mode.close(1.0)


def test_thread_mode_with_every_worker_busy_answers_503_with_retry_after() -> None:
    h = connect(echo_body, mode=lambda handler: ManualThreads(handler, capacity=0))
    h.feed(post(b"abc"))
    h.run()
    [response] = h.responses()
    assert (response.status, response.header("retry-after")) == (503, "1")
    assert h.calls == []
