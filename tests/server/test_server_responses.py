"""Responses as strict as requests, socket-free: what the handler declares is checked
before a byte goes out; a mismatch found before the head is a 500, after it a cut.

Also: the fields the server adds (Date, Server once each), errors of every kind from a
handler (BaseException included) and file bodies.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable, Iterable, Iterator
from typing import IO

import pytest
from fakes import Harness, ManualThreads, connect, get

from httpkit.server.contract import FileBody, Handler, HandlerExchange
from httpkit.server.headers import ServerFields
from httpkit.server.modes import ExecutionMode, InlineMode
from httpkit.server.phase import Phase


def only_a_500(h: Harness) -> None:
    """The client got one 500 and nothing of the response the handler meant to send."""
    [response] = h.responses()
    assert response.status == 500
    assert response.body == b"500 Internal Server Error\n"


def declaring(length: str, pieces: list[bytes]) -> Handler:
    def handler(ex: HandlerExchange) -> Iterable[bytes]:
        ex.start_response(200, "OK", [("Content-Length", length)])
        return pieces

    return handler


# -- Content-Length against the body --------------------------------------------------


@pytest.mark.parametrize(
    ("length", "pieces"),
    [("5", [b"hi"]), ("1", [b"hi"]), ("3", [b"ab", b"cd"]), ("0", [b"x"])],
    ids=["short", "long", "long-in-pieces", "zero"],
)
@pytest.mark.parametrize("mode", [InlineMode, ManualThreads], ids=["inline", "threads"])
def test_content_length_disagreeing_with_a_list_body_is_a_500_and_nothing_else(
    length: str,
    pieces: list[bytes],
    mode: Callable[[Handler], ExecutionMode],
    caplog: pytest.LogCaptureFixture,
) -> None:
    h = connect(declaring(length, pieces), mode=mode)
    with caplog.at_level(logging.ERROR, logger="httpkit.error"):
        h.feed(get())
        if mode is ManualThreads:
            h.ctx.mode.run_next()  # type: ignore[attr-defined]
        h.run()
    only_a_500(h)
    assert b"hi" not in h.written
    assert "invalid response to GET /" in caplog.text


def stream(length: str | None, *pieces: bytes) -> Handler:
    def handler(ex: HandlerExchange) -> Iterator[bytes]:
        ex.start_response(200, "OK", [] if length is None else [("Content-Length", length)])
        yield from pieces

    return handler


def test_a_piece_overflowing_the_length_after_the_head_cuts_without_a_byte_more() -> None:
    h = connect(stream("3", b"ab", b"cd"))
    h.feed(get())
    h.run()
    head, _, body = h.written.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"Content-Length: 3" in head
    assert body == b"ab"  # "c" would have been within the length: not sent either
    assert h.transport.aborted


def test_a_stream_ending_short_of_its_length_is_cut() -> None:
    h = connect(stream("5", b"ab"))
    h.feed(get())
    h.run()
    assert h.written.endswith(b"\r\n\r\nab")
    assert h.transport.aborted


def test_a_first_piece_overflowing_the_length_is_a_500() -> None:
    h = connect(stream("1", b"ab"))
    h.feed(get())
    h.run()
    only_a_500(h)
    assert not h.transport.aborted


def test_a_thread_mode_piece_overflowing_the_length_cuts_without_a_byte_more() -> None:
    h = connect(stream("3", b"ab", b"cd"), mode=ManualThreads)
    h.feed(get())
    h.ctx.mode.run_next()  # type: ignore[attr-defined]  # the worker: this thread
    h.run()
    assert h.written.partition(b"\r\n\r\n")[2] == b"ab"
    assert h.transport.aborted


# -- failures of every kind -----------------------------------------------------------


@pytest.mark.parametrize("error", [SystemExit, KeyboardInterrupt, GeneratorExit])
@pytest.mark.parametrize("mode", [InlineMode, ManualThreads], ids=["inline", "threads"])
def test_a_handler_raising_a_base_exception_gets_a_500_and_nothing_escapes(
    error: type[BaseException], mode: Callable[[Handler], ExecutionMode]
) -> None:
    def raising(ex: HandlerExchange) -> Iterable[bytes]:
        ex.start_response(200, "OK", [("Content-Length", "2")])
        raise error

    h = connect(raising, mode=mode)
    h.feed(get())  # returns normally: SystemExit from an app must not stop the server
    if mode is ManualThreads:
        h.ctx.mode.run_next()  # type: ignore[attr-defined]
    h.run()
    only_a_500(h)
    assert h.phase is Phase.IDLE  # the body was read: the connection is kept
    h.feed(get())
    if mode is ManualThreads:
        h.ctx.mode.run_next()  # type: ignore[attr-defined]
    h.run()
    assert [r.status for r in h.responses()] == [500, 500]


def test_a_stream_raising_keyboard_interrupt_after_the_head_cuts_the_connection() -> None:
    def interrupted(ex: HandlerExchange) -> Iterator[bytes]:
        ex.start_response(200, "OK", [])
        yield b"part"
        raise KeyboardInterrupt

    h = connect(interrupted)
    h.feed(get())
    h.run()
    assert h.transport.aborted
    assert not h.written.endswith(b"0\r\n\r\n")  # no end of the chunked body


@pytest.mark.parametrize(
    "body",
    [None, [b"ok", "text"], 42],
    ids=["none", "str-piece", "not-iterable"],
)
def test_a_handler_returning_something_not_a_body_gets_a_500(body: object) -> None:
    def returning(ex: HandlerExchange) -> Iterable[bytes]:
        ex.start_response(200, "OK", [])
        return body  # type: ignore[return-value]

    h = connect(returning)
    h.feed(get())
    h.run()
    only_a_500(h)


def test_a_body_whose_close_fails_still_gets_its_response_sent() -> None:
    class Body(list[bytes]):
        def close(self) -> None:
            raise KeyboardInterrupt

    def handler(ex: HandlerExchange) -> Iterable[bytes]:
        ex.start_response(200, "OK", [])
        return Body([b"kept"])

    h = connect(handler)
    h.feed(get())
    h.run()
    [response] = h.responses()
    assert (response.status, response.body) == (200, b"kept")


# -- file bodies ----------------------------------------------------------------------


@pytest.fixture
def data_file() -> Iterator[IO[bytes]]:
    with tempfile.TemporaryFile() as file:
        file.write(b"0123456789" * 1000)
        file.seek(0)
        yield file


def serving_file(file: IO[bytes], fields: list[tuple[str, str]]) -> Handler:
    def handler(ex: HandlerExchange) -> Iterable[bytes]:
        ex.start_response(200, "OK", fields)
        return FileBody(file, block_size=4096)

    return handler


def test_a_file_body_with_a_superscript_content_length_is_a_500(data_file: IO[bytes]) -> None:
    # "²".isdigit() is True and int("²") fails: the framer checks ASCII digits itself.
    h = connect(serving_file(data_file, [("Content-Length", "²")]))
    h.feed(get())
    h.run()
    only_a_500(h)


def test_a_file_body_goes_out_whole_framed_by_its_size(data_file: IO[bytes]) -> None:
    h = connect(serving_file(data_file, [("Content-Type", "text/plain")]))
    h.feed(get())
    h.run()
    [response] = h.responses()
    assert response.header("content-length") == "10000"
    assert response.body == b"0123456789" * 1000
    assert data_file.closed
    assert h.phase is Phase.IDLE


def test_a_file_shorter_than_its_declared_length_is_sent_at_its_real_size(
    data_file: IO[bytes], caplog: pytest.LogCaptureFixture
) -> None:
    h = connect(serving_file(data_file, [("Content-Length", "20000")]))
    with caplog.at_level(logging.WARNING, logger="httpkit.error"):
        h.feed(get())
        h.run()
    [response] = h.responses()
    assert (response.header("content-length"), len(response.body)) == ("10000", 10000)
    assert "larger than the file" in caplog.text


# -- the fields the server adds -------------------------------------------------------


def test_the_server_adds_date_and_server_once_each() -> None:
    h = connect()
    h.feed(get())
    h.run()
    [response] = h.responses()
    assert (response.count("date"), response.count("server")) == (1, 1)
    assert response.header("server") == "httpkit"


def with_fields(fields: list[tuple[str, str]]) -> Handler:
    def handler(ex: HandlerExchange) -> Iterable[bytes]:
        ex.start_response(200, "OK", [*fields, ("Content-Length", "2")])
        return [b"hi"]

    return handler


def test_the_applications_date_and_server_are_kept_once_each() -> None:
    fields = [("Date", "Tue, 15 Nov 1994 08:12:31 GMT"), ("Server", "app/1.0")]
    h = connect(with_fields(fields))
    h.feed(get())
    h.run()
    [response] = h.responses()
    assert (response.count("date"), response.count("server")) == (1, 1)
    assert response.header("date") == "Tue, 15 Nov 1994 08:12:31 GMT"
    assert response.header("server") == "app/1.0"


def test_an_empty_server_header_setting_sends_no_server_field() -> None:
    h = connect(fields=ServerFields(""))
    h.feed(get())
    h.feed(b"GET / HTTP/1.1\r\n\r\n")  # a 400 the server writes itself
    h.run()
    for response in h.responses():
        assert response.count("server") == 0
        assert response.count("date") == 1
