"""Write back-pressure: WriteFlow between a worker and the loop, and inline streaming.

A response body goes out no faster than the client reads: a worker thread waits in
WriteFlow.hand_over, an inline body stops pulling pieces until resume_writing.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator

import pytest
from fakes import BOUND, Harness, connect, get

from httpkit.server.contract import ClientDisconnectedError, Handler, HandlerExchange
from httpkit.server.flow import WRITE_HIGH_WATER, WriteFlow
from httpkit.server.modes import ThreadMode
from httpkit.server.phase import Phase

STILL = 0.05  # how long a blocked thread is watched to stay blocked


class Worker:
    """Runs ``flow.hand_over(size, ...)`` on a thread; records delivery or the error."""

    def __init__(self, flow: WriteFlow, size: int = 10) -> None:
        self.delivered = threading.Event()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, args=(flow, size))
        self.thread.start()

    def _run(self, flow: WriteFlow, size: int) -> None:
        try:
            flow.hand_over(size, self.delivered.set)
        except BaseException as error:
            self.error = error

    def join(self) -> None:
        self.thread.join(BOUND)
        assert not self.thread.is_alive(), "hand_over never returned"


# -- WriteFlow ------------------------------------------------------------------------


def test_hand_over_delivers_at_once_while_the_client_keeps_up() -> None:
    flow = WriteFlow()
    delivered: list[int] = []
    flow.hand_over(10, lambda: delivered.append(10))
    assert delivered == [10]


def test_hand_over_waits_while_writing_is_paused_then_delivers() -> None:
    flow = WriteFlow()
    flow.pause(now=5.0)
    assert (flow.paused, flow.paused_at) == (True, 5.0)
    worker = Worker(flow)
    assert not worker.delivered.wait(STILL)
    flow.resume()
    assert worker.delivered.wait(BOUND)
    worker.join()
    assert worker.error is None
    assert (flow.paused, flow.paused_at) == (False, math.inf)


def test_hand_over_waits_while_too_much_is_in_flight_until_written() -> None:
    flow = WriteFlow()
    flow.hand_over(WRITE_HIGH_WATER + 1, lambda: None)  # handed over, not yet written
    worker = Worker(flow)
    assert not worker.delivered.wait(STILL)
    flow.written(WRITE_HIGH_WATER + 1)
    assert worker.delivered.wait(BOUND)
    worker.join()


def test_hand_over_gives_up_with_client_disconnected_once_lost() -> None:
    flow = WriteFlow()
    flow.pause(now=0.0)
    worker = Worker(flow)
    assert not worker.delivered.wait(STILL)
    flow.lose()
    worker.join()
    assert isinstance(worker.error, ClientDisconnectedError)
    assert not worker.delivered.is_set()


def test_hand_over_after_the_connection_is_lost_raises_at_once() -> None:
    flow = WriteFlow()
    flow.lose()
    with pytest.raises(ClientDisconnectedError):
        flow.hand_over(1, lambda: pytest.fail("delivered to a lost connection"))


# -- inline streaming -----------------------------------------------------------------


def counted_pieces(count: int, closed: list[str], pad: int = 0) -> Handler:
    """Yields ``<0>``, ``<1>``... (each followed by ``pad`` dots), records its close()."""

    def handler(ex: HandlerExchange) -> Iterator[bytes]:
        ex.start_response(200, "OK", [])
        try:
            for index in range(count):
                yield b"<%d>" % index + b"." * pad
        finally:
            closed.append("closed")

    return handler


def pause_on_first_write(h: Harness) -> None:
    """The transport's buffer fills with the first write."""
    first = [True]

    def on_write(data: bytes) -> None:
        if first[0]:
            first[0] = False
            h.conn.pause_writing()

    h.transport.on_write = on_write


def test_inline_stream_waits_for_resume_writing_and_goes_on_from_a_callback() -> None:
    closed: list[str] = []
    h = connect(counted_pieces(5, closed))
    pause_on_first_write(h)
    h.feed(get())
    assert len(h.transport.writes) == 1  # head and the first piece, then wait
    h.run()
    assert len(h.transport.writes) == 1
    h.conn.resume_writing()
    # Not from inside the transport's callback: writing there could re-enter it.
    assert len(h.transport.writes) == 1
    h.run()
    [response] = h.responses()
    assert response.header("transfer-encoding") == "chunked"
    assert response.body == b"<0><1><2><3><4>"
    assert closed == ["closed"]
    assert h.phase is Phase.IDLE


def test_inline_stream_waiting_for_a_client_that_leaves_is_closed() -> None:
    closed: list[str] = []
    h = connect(counted_pieces(1000, closed))
    pause_on_first_write(h)
    h.feed(get())
    h.conn.connection_lost(ConnectionResetError())
    h.run()
    assert closed == ["closed"]  # PEP 3333: close() whatever happened
    assert len(h.transport.writes) == 1  # no piece pulled for nobody


# -- thread mode ----------------------------------------------------------------------


def test_worker_waits_for_a_slow_client_then_finishes_the_response() -> None:
    closed: list[str] = []
    # More than a worker may hand over before the loop has written anything.
    pad = 64 * 1024
    count = 4 * WRITE_HIGH_WATER // pad
    h = connect(counted_pieces(count, closed, pad), mode=lambda app: ThreadMode(app, 1, 0))
    try:
        pause_on_first_write(h)
        h.feed(get())
        h.run_until(lambda: h.conn.writing_paused)
        assert not closed  # the worker waits, its body not exhausted
        h.conn.resume_writing()
        h.run_until(lambda: bool(closed) and h.phase is Phase.IDLE)
        [response] = h.responses()
        assert response.body == b"".join(b"<%d>" % i + b"." * pad for i in range(count))
    finally:
        h.ctx.mode.close(1.0)


def test_worker_blocked_on_a_client_that_never_reads_is_freed_by_the_send_timeout() -> None:
    closed: list[str] = []
    h = connect(
        counted_pieces(10**9, closed),
        mode=lambda app: ThreadMode(app, 1, 0),
        send_timeout=60.0,
    )
    try:
        pause_on_first_write(h)
        h.feed(get())
        h.run_until(lambda: h.conn.writing_paused)
        h.advance(60.0)
        assert h.transport.aborted
        h.run_until(lambda: bool(closed))  # connection_lost released the worker
        assert h.phase is Phase.CLOSED
    finally:
        h.ctx.mode.close(1.0)
