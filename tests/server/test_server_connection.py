"""HTTPConnection as a state machine, socket-free: phases, deadlines, pipelining, drain.

Every test drives one connection through the fakes (tests/server/fakes.py): bytes in
with data_received, the connection's callbacks run by hand, time moved by a fake clock,
and what reached the transport read back.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Iterator

import pytest
from fakes import BOUND, Harness, ManualThreads, connect, get, post

from httpkit.config import Settings
from httpkit.server.contract import HandlerExchange
from httpkit.server.modes import ThreadMode
from httpkit.server.phase import DEADLINE_OF, TRANSITIONS, Deadline, Phase, TransitionError
from httpkit.server.protocol import PIPELINE_LIMIT
from httpkit.server.reqbody import BODY_HIGH_WATER

EPSILON = 0.001


def echo_target(ex: HandlerExchange) -> Iterable[bytes]:
    body = ex.request.target.encode()
    ex.start_response(200, "OK", [("Content-Length", str(len(body)))])
    return [body]


def echo_body(ex: HandlerExchange) -> Iterable[bytes]:
    body = ex.read()
    ex.start_response(200, "OK", [("Content-Length", str(len(body)))])
    return [body]


def answer_unread(ex: HandlerExchange) -> Iterable[bytes]:
    """Answers without reading the request body."""
    ex.start_response(200, "OK", [("Content-Length", "4")])
    return [b"done"]


# -- the table ------------------------------------------------------------------------


def test_every_phase_has_moves_and_a_deadline_and_can_reach_closed() -> None:
    assert set(TRANSITIONS) == set(Phase) == set(DEADLINE_OF)
    for phase in Phase:
        seen, todo = {phase}, [phase]
        while todo:
            for after in TRANSITIONS[todo.pop()]:
                if after not in seen:
                    seen.add(after)
                    todo.append(after)
        assert Phase.CLOSED in seen, phase
    # Only the application's own time (its response, or the protocol it switched to after a
    # 101, whose own liveness checks bound it) and a closed connection run no deadline.
    unbounded = {phase for phase, deadline in DEADLINE_OF.items() if deadline is Deadline.NONE}
    assert unbounded == {Phase.RESPONDING, Phase.UPGRADED, Phase.CLOSED}


@pytest.mark.parametrize(
    ("start", "illegal"),
    [
        (Phase.IDLE, Phase.FLUSHING),
        (Phase.LINGER, Phase.IDLE),
        (Phase.LINGER, Phase.RESPONDING),
        (Phase.CLOSING, Phase.IDLE),
        (Phase.CLOSED, Phase.IDLE),
    ],
)
def test_a_move_the_table_forbids_raises_transition_error(start: Phase, illegal: Phase) -> None:
    h = connect()
    h.conn.phase = start
    with pytest.raises(TransitionError, match=f"{start.name} -> {illegal.name}"):
        h.conn._enter(illegal)
    assert h.phase is start


# -- phases ---------------------------------------------------------------------------


def test_a_partial_head_moves_idle_to_head_and_the_rest_to_responding() -> None:
    h = connect()
    assert h.phase is Phase.IDLE
    h.feed(b"GET /x HTTP/1.1\r\nHo")
    assert h.phase is Phase.HEAD
    assert h.calls == []
    h.feed(b"st: example.test\r\n\r\n")
    assert h.phase is Phase.RESPONDING
    assert [request.target for request in h.calls] == ["/x"]
    assert h.written == b""  # a list body is written from the next callback
    h.run()
    [response] = h.responses()
    assert (response.status, response.body) == (200, b"hi")
    assert response.header("connection") is None
    assert h.phase is Phase.IDLE
    assert not h.transport.closed


def test_a_request_body_keeps_the_connection_in_body_until_it_is_all_in() -> None:
    h = connect(echo_body)
    h.feed(post(b"0123456789")[:-7])
    assert h.phase is Phase.BODY
    assert h.calls == []  # inline: the handler runs once the body is in
    h.feed(b"3456789")
    assert h.phase is Phase.RESPONDING
    h.run()
    assert [r.body for r in h.responses()] == [b"0123456789"]
    assert h.phase is Phase.IDLE


def test_a_keep_alive_connection_serves_request_after_request() -> None:
    h = connect(echo_target)
    for index in range(3):
        h.feed(get(f"/{index}"))
        h.run()
        assert h.phase is Phase.IDLE
    assert [r.body for r in h.responses()] == [b"/0", b"/1", b"/2"]
    assert h.conn.requests_served == 3
    assert not h.transport.closed


def test_flushing_holds_the_next_pipelined_request_until_the_client_reads() -> None:
    h = connect(echo_target)
    h.feed(get("/a") + get("/b"))
    h.conn.pause_writing()  # the client is not reading: the transport's buffer is full
    h.run()
    assert h.phase is Phase.FLUSHING
    assert [r.body for r in h.responses()] == [b"/a"]
    assert not h.transport.reading
    h.conn.resume_writing()
    # Not parsed inside the transport's callback, but from the one it scheduled.
    assert [r.target for r in h.calls] == ["/a"]
    assert h.phase is Phase.FLUSHING
    h.run()
    assert [r.body for r in h.responses()] == [b"/a", b"/b"]
    assert h.transport.reading
    assert h.phase is Phase.IDLE


def test_flushing_waits_again_if_writing_paused_before_its_callback_ran() -> None:
    h = connect(echo_target)
    h.feed(get("/a") + get("/b"))
    h.conn.pause_writing()
    h.run()
    h.conn.resume_writing()
    h.conn.pause_writing()
    h.run()
    assert h.phase is Phase.FLUSHING
    assert len(h.calls) == 1
    h.conn.resume_writing()
    h.run()
    assert [r.body for r in h.responses()] == [b"/a", b"/b"]


def test_linger_after_a_response_that_left_the_body_unread() -> None:
    h = connect(answer_unread, mode=ManualThreads)
    h.feed(post(b"x" * 100_000)[:-90_000])
    assert h.phase is Phase.BODY
    h.ctx.mode.run_next()  # type: ignore[attr-defined]
    h.run()
    [response] = h.responses()
    assert (response.status, response.body) == (200, b"done")
    assert response.header("connection") == "close"  # the body's end is unknown
    assert h.phase is Phase.LINGER
    assert h.transport.eof_written  # FIN now, so the client reads the response...
    assert not h.transport.closed  # ... and no RST for the bytes still coming
    h.feed(b"x" * 50_000)  # discarded
    h.advance(h.settings.linger_timeout - EPSILON)
    assert not h.transport.closed
    h.advance(EPSILON)
    assert h.transport.closed
    assert not h.transport.aborted
    h.run()
    assert h.phase is Phase.CLOSED
    assert h.closed == [h.conn]


def test_linger_ends_when_the_client_closes_its_side() -> None:
    h = connect(answer_unread, mode=ManualThreads)
    h.feed(post(b"x" * 1000)[:-500])
    h.ctx.mode.run_next()  # type: ignore[attr-defined]
    h.run()
    assert h.phase is Phase.LINGER
    assert h.conn.eof_received() is False
    assert h.transport.closed
    assert not h.transport.aborted


@pytest.mark.parametrize("sent", [b"", b"GET / HT", post(b"abcdef")[:-3]])
def test_connection_lost_enters_closed_and_no_deadline_fires_after(sent: bytes) -> None:
    h = connect()
    if sent:
        h.feed(sent)
    assert h.opened == [h.conn]
    h.conn.connection_lost(None)
    assert h.phase is Phase.CLOSED
    assert h.closed == [h.conn]
    h.advance(3600)
    h.run()
    assert not h.transport.closed
    assert not h.transport.aborted
    assert h.calls == []


def test_client_half_close_after_its_request_still_gets_the_response() -> None:
    h = connect()
    h.feed(get())
    assert h.conn.eof_received() is True  # keep the transport open for writing
    h.run()
    assert [r.status for r in h.responses()] == [200]
    assert h.transport.closed


def test_end_of_file_on_an_idle_connection_closes_it() -> None:
    h = connect()
    h.conn.eof_received()
    assert h.transport.closed
    assert h.written == b""


# -- deadlines ------------------------------------------------------------------------


def test_keepalive_timeout_closes_an_idle_connection() -> None:
    h = connect(keepalive_timeout=5.0, header_timeout=1.0)
    h.advance(5.0 - EPSILON)
    assert not h.transport.closed
    h.advance(EPSILON)
    assert h.transport.closed
    assert not h.transport.aborted
    assert h.written == b""  # nothing to say to a client that sent nothing


def test_keepalive_timeout_restarts_after_each_response() -> None:
    h = connect(keepalive_timeout=5.0)
    h.advance(4.0)
    h.feed(get())
    h.run()
    h.advance(4.0)
    assert not h.transport.closed
    h.advance(1.0)
    assert h.transport.closed


def test_header_timeout_answers_408_then_lingers() -> None:
    h = connect(header_timeout=10.0, keepalive_timeout=60.0)
    h.feed(b"GET / HTTP/1.1\r\nHost: exam")
    h.advance(10.0 - EPSILON)
    assert h.written == b""
    h.advance(EPSILON)
    [response] = h.responses()
    assert response.status == 408
    assert response.header("connection") == "close"
    assert h.phase is Phase.LINGER
    assert h.transport.eof_written
    assert not h.transport.closed
    h.advance(h.settings.linger_timeout)
    assert h.transport.closed
    assert h.calls == []


def test_header_timeout_closes_at_once_where_the_transport_cannot_half_close() -> None:
    h = connect(header_timeout=10.0, can_write_eof=False)  # TLS: no write_eof
    h.feed(b"GET / HTTP/1.1\r\n")
    h.advance(10.0)
    assert [r.status for r in h.responses()] == [408]
    assert h.transport.closed
    assert not h.transport.eof_written


def test_a_head_trickled_in_still_times_out_from_its_first_byte() -> None:
    h = connect(header_timeout=10.0)
    h.feed(b"G")
    for _ in range(9):
        h.advance(1.0)
        h.feed(b"E")
    assert h.written == b""
    h.advance(1.0)
    assert [r.status for r in h.responses()] == [408]


def test_body_timeout_cuts_a_stalled_upload(caplog: pytest.LogCaptureFixture) -> None:
    h = connect(echo_body, body_timeout=30.0)
    h.feed(post(b"0123456789")[:-8])
    h.advance(29.0)
    h.feed(b"2")  # any byte restarts the body deadline
    h.advance(29.0)
    assert not h.transport.aborted
    with caplog.at_level(logging.INFO, logger="httpkit.error"):
        h.advance(1.0)
    assert h.transport.aborted
    assert "request body stalled" in caplog.text
    assert h.calls == []
    assert h.written == b""


def test_body_deadline_does_not_run_while_the_handler_is_the_slow_one() -> None:
    release = threading.Event()
    outcome: list[object] = []

    def slow_reader(ex: HandlerExchange) -> Iterable[bytes]:
        first = ex.read(1)
        release.wait(BOUND)
        try:
            ex.read()  # the rest never comes
        except OSError as error:
            outcome.append(error)
        return [first]

    h = connect(slow_reader, mode=lambda handler: ThreadMode(handler, 1, 0), body_timeout=30.0)
    try:
        body = b"x" * (2 * BODY_HIGH_WATER)
        h.feed(post(body + b"never sent")[: -len(b"never sent")])
        assert not h.transport.reading  # the body's buffer is full: reading paused
        h.advance(10 * 30.0)  # the handler is slow, not the client
        assert not h.transport.aborted
        release.set()
        h.run_until(lambda: h.transport.reading)  # drained: read on, and time the client
        assert h.phase is Phase.BODY
        h.advance(30.0)
        assert h.transport.aborted
        h.run_until(lambda: bool(outcome))
        assert type(outcome[0]).__name__ == "ClientDisconnectedError"
    finally:
        release.set()
        h.ctx.mode.close(1.0)


def test_send_timeout_cuts_a_client_that_stops_reading_a_streamed_response() -> None:
    closed: list[bool] = []

    def endless(ex: HandlerExchange) -> Iterator[bytes]:
        ex.start_response(200, "OK", [])
        try:
            while True:
                yield b"x" * 1000
        finally:
            closed.append(True)

    h = connect(endless, send_timeout=60.0)
    h.transport.on_write = lambda data: h.conn.pause_writing()
    h.feed(get())
    assert h.phase is Phase.RESPONDING
    assert len(h.transport.writes) == 1  # one piece, then wait for the client
    h.advance(60.0 - EPSILON)
    assert not h.transport.aborted
    h.advance(EPSILON)
    assert h.transport.aborted
    h.run()  # connection_lost: the waiting body is closed (PEP 3333)
    assert closed == [True]
    assert h.phase is Phase.CLOSED


def test_send_timeout_cuts_a_client_that_never_reads_while_flushing() -> None:
    h = connect(echo_target, send_timeout=60.0)
    h.feed(get("/a") + get("/b"))
    h.conn.pause_writing()
    h.run()
    assert h.phase is Phase.FLUSHING
    h.advance(60.0)
    assert h.transport.aborted
    assert len(h.calls) == 1


# -- pipelining -----------------------------------------------------------------------


def test_two_pipelined_requests_in_one_read_get_two_responses_in_order() -> None:
    h = connect(echo_target)
    h.feed(get("/first") + get("/second"))
    h.run()
    assert [r.body for r in h.responses()] == [b"/first", b"/second"]
    assert h.phase is Phase.IDLE


def test_a_pipeline_beyond_the_limit_pauses_reading_until_the_response_is_out() -> None:
    h = connect(echo_body)
    h.feed(get("/first"))
    assert h.phase is Phase.RESPONDING
    big = post(b"y" * PIPELINE_LIMIT)
    h.feed(big[: len(big) // 2])
    assert h.transport.reading  # within the limit
    h.feed(big[len(big) // 2 :])
    assert not h.transport.reading
    assert h.transport.pause_calls == 1
    h.run()
    assert h.transport.reading
    bodies = [r.body for r in h.responses()]
    assert bodies == [b"", b"y" * PIPELINE_LIMIT]


# -- drain ----------------------------------------------------------------------------


def test_draining_idle_connection_answers_a_request_in_the_grace_with_close() -> None:
    h = connect(keepalive_timeout=60.0)
    h.feed(get())
    h.run()
    h.ctx.draining = True
    h.conn.drain()
    h.advance(Settings().drain_grace / 2)
    assert not h.transport.closed
    h.feed(get())
    h.run()
    first, second = h.responses()
    assert first.header("connection") is None
    assert second.header("connection") == "close"
    assert h.transport.closed


def test_draining_idle_connection_closes_at_the_grace_deadline() -> None:
    h = connect(keepalive_timeout=60.0)
    h.ctx.draining = True
    h.conn.drain()
    h.advance(Settings().drain_grace - EPSILON)
    assert not h.transport.closed
    h.advance(EPSILON)
    assert h.transport.closed
    assert not h.transport.aborted


def test_draining_busy_connection_answers_with_close_then_closes() -> None:
    h = connect()
    h.feed(get()[:10])
    h.ctx.draining = True
    h.conn.drain()
    assert not h.transport.closed  # a request is on its way
    h.feed(get()[10:])
    h.run()
    [response] = h.responses()
    assert (response.status, response.header("connection")) == (200, "close")
    assert h.transport.closed


def test_a_response_framed_before_the_drain_keeps_its_promise_for_the_grace() -> None:
    # The 200 was framed keep-alive before the stop began (it goes out from the next
    # loop iteration): its client may send another request at once, which still gets
    # the drain's grace and an answer with Connection: close.
    h = connect()
    h.feed(get())
    h.ctx.draining = True
    h.conn.drain()
    h.run()
    [response] = h.responses()
    assert (response.status, response.body) == (200, b"hi")
    assert response.header("connection") is None
    assert not h.transport.closed
    h.feed(get())
    h.run()
    _, second = h.responses()
    assert second.header("connection") == "close"
    assert h.transport.closed
    assert not h.transport.aborted


def test_a_response_framed_before_the_drain_closes_after_the_grace() -> None:
    h = connect()
    h.feed(get())
    h.ctx.draining = True
    h.conn.drain()
    h.run()
    assert not h.transport.closed
    h.advance(Settings().drain_grace)
    assert h.transport.closed
    assert not h.transport.aborted


# -- closing ----------------------------------------------------------------------------


def closed_after_response(**settings: float) -> Harness:
    """A TLS connection the server closed after its response to Connection: close; the
    transport waits for the client's close_notify (as asyncio's and uvloop's do)."""
    h = connect(tls=True, **settings)
    h.feed(get("/", "Connection: close"))
    h.run()
    [response] = h.responses()
    assert (response.status, response.body) == (200, b"hi")
    assert h.transport.closed and not h.transport.aborted
    assert h.phase is Phase.CLOSING
    return h


def test_a_tls_close_the_client_never_answers_is_cut_after_the_linger_timeout() -> None:
    h = closed_after_response(linger_timeout=2.0)
    h.advance(2.0 - EPSILON)
    assert not h.transport.aborted
    h.advance(EPSILON)
    assert h.transport.aborted
    h.run()
    assert h.phase is Phase.CLOSED
    assert h.closed == [h.conn]  # its slot is free


def test_a_tls_close_the_client_answers_ends_without_a_cut() -> None:
    h = closed_after_response()
    h.transport.answer_close()
    h.run()
    assert h.phase is Phase.CLOSED
    h.advance(3600)
    assert not h.transport.aborted
    assert h.closed == [h.conn]


def test_a_closing_connection_is_not_cut_while_its_bytes_are_still_unsent() -> None:
    h = closed_after_response(linger_timeout=2.0, send_timeout=30.0)
    h.transport.buffered = 40_000  # the client is reading the response's end slowly
    h.advance(2.0)
    h.advance(10.0)
    assert not h.transport.aborted
    h.transport.buffered = 0  # all of it is in the socket now
    h.advance(2.0 - EPSILON)
    assert not h.transport.aborted
    h.advance(EPSILON)
    assert h.transport.aborted


def test_a_client_that_stops_reading_a_closing_connection_is_cut_at_the_send_timeout() -> None:
    h = closed_after_response(linger_timeout=2.0, send_timeout=30.0)
    h.transport.buffered = 40_000
    for _ in range(14):
        h.advance(2.0)
    assert not h.transport.aborted
    h.advance(2.0)  # 30 s since the close
    assert h.transport.aborted


def test_a_closing_connection_runs_no_request_and_eof_ends_it() -> None:
    h = closed_after_response()
    h.feed(get())
    h.run()
    assert len(h.calls) == 1
    assert h.conn.eof_received() is False
    assert h.phase is Phase.CLOSING  # the transport closes; the answer is its business


def test_a_drain_cuts_a_closing_connection_once_its_bytes_are_out() -> None:
    h = closed_after_response(linger_timeout=30.0)
    h.transport.buffered = 100
    h.ctx.draining = True
    h.conn.drain()
    assert not h.transport.aborted  # never lose the response's end
    h.transport.buffered = 0
    h.conn.drain()  # the server's stop calls it on every tick
    assert h.transport.aborted
    h.run()
    assert h.phase is Phase.CLOSED


def test_a_plain_close_ends_without_a_cut() -> None:
    h = connect()
    h.feed(get("/", "Connection: close"))
    h.run()
    assert h.phase is Phase.CLOSED  # the socket transport closed at once: nothing buffered
    assert not h.transport.aborted


# -- answers the server gives itself --------------------------------------------------


def test_connect_is_answered_501_and_never_reaches_the_handler() -> None:
    h = connect()
    h.feed(b"CONNECT example.test:443 HTTP/1.1\r\nHost: example.test:443\r\n\r\n")
    h.run()
    [response] = h.responses()
    assert response.status == 501
    assert response.header("connection") == "close"
    assert h.calls == []
    assert h.transport.eof_written  # lingers: a body may follow the CONNECT head


def test_options_star_is_answered_with_allow_and_keeps_the_connection() -> None:
    h = connect()
    h.feed(b"OPTIONS * HTTP/1.1\r\nHost: example.test\r\n\r\n" + get())
    h.run()
    options, after = h.responses()
    assert (options.status, options.header("content-length")) == (200, "0")
    allow = {method.strip() for method in (options.header("allow") or "").split(",")}
    assert {"GET", "HEAD", "POST", "OPTIONS"} <= allow
    assert options.header("connection") is None
    assert after.status == 200
    assert len(h.calls) == 1  # only the GET
    assert not h.transport.closed


@pytest.mark.parametrize(
    "body",
    [
        b"Content-Length: 5\r\n\r\nhello",
        b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    ],
)
def test_options_star_with_a_body_says_it_closes(body: bytes) -> None:
    # Its body is never read: the connection closes after the answer, and the answer
    # says so, so that the client resends what it pipelined behind it.
    h = connect()
    h.feed(b"OPTIONS * HTTP/1.1\r\nHost: example.test\r\n" + body + get())
    h.run()
    (options,) = h.responses()
    assert options.status == 200
    assert options.header("connection") == "close"
    assert h.calls == []
    assert h.transport.eof_written  # lingers: the body is discarded, not reset


# -- the access log -------------------------------------------------------------------


def test_every_response_is_logged_once_with_its_status_and_body_size() -> None:
    h = connect(echo_target, access_log=True, header_timeout=10.0)
    h.feed(get("/logged") + b"OPTIONS * HTTP/1.1\r\nHost: example.test\r\n\r\n")
    h.run()
    h.feed(b"GET /never-finished HTTP/1.1\r\n")
    h.advance(10.0)
    records = [
        (request and request.target, status, sent) for _, request, status, sent, _ in h.access
    ]
    # The server's own 408 body ("408 Request Timeout\n") counts, as Apache's %b does.
    assert records == [("/logged", 200, 7), ("*", 200, 0), (None, 408, 20)]


# -- nothing escapes a callback -------------------------------------------------------


def test_a_write_failing_while_a_list_body_goes_out_is_contained() -> None:
    h = connect()
    h.transport.write_error = RuntimeError("transport broke")
    h.feed(get())
    h.loop.run()
    assert h.loop.errors == []  # finish() raised out of its loop callback
    assert h.transport.aborted


def test_a_write_failing_for_a_threaded_handlers_pieces_is_contained() -> None:
    def stream(ex: HandlerExchange) -> Iterator[bytes]:
        ex.start_response(200, "OK", [])
        yield b"one"
        yield b"two"

    h = connect(stream, mode=ManualThreads)
    h.transport.write_error = RuntimeError("transport broke")
    h.feed(get())
    h.ctx.mode.run_next()  # type: ignore[attr-defined]
    h.loop.run()
    assert h.loop.errors == []  # _write_handed_over() and finish() raised
    assert h.transport.aborted


def test_a_write_failing_while_rejecting_a_request_is_contained() -> None:
    h = connect()
    h.transport.write_error = RuntimeError("transport broke")
    h.feed(b"GET / HTTP/1.1\r\n\r\n")  # no Host: 400
    h.run()
    assert h.transport.aborted


def test_a_write_failing_during_a_streamed_body_cuts_the_connection() -> None:
    def stream(ex: HandlerExchange) -> Iterator[bytes]:
        ex.start_response(200, "OK", [])
        yield b"one"
        yield b"two"

    h = connect(stream)
    h.transport.write_error = KeyboardInterrupt()
    h.feed(get())
    h.run()
    assert h.transport.aborted


class Stop(BaseException):
    pass


def test_a_handler_raising_a_base_exception_is_answered_500() -> None:
    def stopping(ex: HandlerExchange) -> Iterable[bytes]:
        raise Stop

    h = connect(stopping)
    h.feed(get())
    h.run()
    assert [r.status for r in h.responses()] == [500]


def test_a_failing_describe_in_connection_made_aborts_the_connection() -> None:
    h = connect()

    def broken(transport: object) -> object:
        raise Stop

    h.ctx.describe = broken  # type: ignore[assignment]
    h.conn.connection_made(h.transport)  # type: ignore[arg-type]
    assert h.transport.aborted
