"""A fake clock, event loop and transport for driving HTTPConnection without sockets.

Nothing here sleeps or runs a real event loop: the test feeds bytes with
``data_received``, runs the callbacks the connection scheduled with :meth:`FakeLoop.run`,
moves the clock with :meth:`Harness.advance` (which then runs the server's deadline
sweep for this connection) and reads what reached the transport.
"""

from __future__ import annotations

import asyncio
import collections
import threading
import time
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass, field
from typing import Any

from httpkit.config import Settings
from httpkit.h1 import Request
from httpkit.server.context import ConnectionContext, limits_of
from httpkit.server.contract import Handler, HandlerExchange
from httpkit.server.driver import run_threaded
from httpkit.server.exchange import Exchange
from httpkit.server.headers import ServerFields
from httpkit.server.info import ConnectionInfo
from httpkit.server.modes import ExecutionMode, InlineMode, ThreadMode
from httpkit.server.protocol import HTTPConnection
from httpkit.server.streams import StreamSlots

__all__ = [
    "FakeClock",
    "FakeLoop",
    "FakeTransport",
    "Harness",
    "ManualThreads",
    "Response",
    "connect",
    "get",
    "hello",
    "parse_responses",
    "post",
]

BOUND = 5.0  # seconds any wait on a worker thread may take before the test fails


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class FakeLoop:
    """The few loop methods a connection uses; callbacks run when the test says so.

    Like asyncio, an exception escaping a callback does not stop the loop: it is kept
    in :attr:`errors` (asyncio would hand it to its exception handler, or stop on
    SystemExit/KeyboardInterrupt), and tests assert that list stays empty.
    """

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self._ready: collections.deque[tuple[Callable[..., Any], tuple[Any, ...]]] = (
            collections.deque()
        )
        self._cond = threading.Condition()
        self.errors: list[BaseException] = []
        self.timers: list[FakeTimer] = []

    def time(self) -> float:
        return self.clock()

    def get_debug(self) -> bool:
        return False

    def call_exception_handler(self, context: dict[str, Any]) -> None:
        self.errors.append(context.get("exception") or RuntimeError(context.get("message")))

    def call_soon(self, callback: Callable[..., Any], *args: Any, context: Any = None) -> None:
        with self._cond:
            self._ready.append((callback, args))
            self._cond.notify_all()

    def call_soon_threadsafe(
        self, callback: Callable[..., Any], *args: Any, context: Any = None
    ) -> None:
        self.call_soon(callback, *args)

    def call_later(
        self, delay: float, callback: Callable[..., Any], *args: Any, context: Any = None
    ) -> FakeTimer:
        """A timer on the fake clock: it fires from :meth:`fire_timers` once due."""
        timer = FakeTimer(self.clock() + delay, callback, args)
        self.timers.append(timer)
        return timer

    def fire_timers(self) -> None:
        """Schedule every timer that is due and not cancelled."""
        due = [timer for timer in self.timers if timer.when <= self.clock()]
        self.timers = [timer for timer in self.timers if timer not in due]
        for timer in due:
            if not timer.cancelled:
                self.call_soon(timer.callback, *timer.args)

    def run(self, limit: int = 100_000) -> int:
        """Run callbacks (including those they schedule) until none is ready."""
        count = 0
        while True:
            with self._cond:
                if not self._ready:
                    return count
                callback, args = self._ready.popleft()
            count += 1
            if count > limit:
                raise AssertionError("callbacks keep scheduling callbacks")
            try:
                callback(*args)
            except BaseException as error:
                self.errors.append(error)

    def run_until(self, predicate: Callable[[], bool], timeout: float = BOUND) -> None:
        """Run callbacks as worker threads schedule them, until ``predicate()`` holds."""
        deadline = time.monotonic() + timeout
        while True:
            self.run()
            if predicate():
                return
            with self._cond:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("timed out waiting on the fake loop")
                if not self._ready:
                    self._cond.wait(min(left, 0.05))

    # -- enough of tasks and futures for run_coroutine_threadsafe and _writable -----------

    def create_future(self) -> asyncio.Future[Any]:
        return asyncio.Future(loop=self)  # type: ignore[arg-type]

    def create_task(self, coro: Coroutine[Any, Any, Any], **_: Any) -> asyncio.Future[Any]:
        future = self.create_future()
        self.call_soon(_Step(self, coro, future))
        return future


@dataclass
class FakeTimer:
    when: float
    callback: Callable[..., Any]
    args: tuple[Any, ...]
    cancelled: bool = False

    def cancel(self) -> None:
        self.cancelled = True


class _Step:
    """Drives a coroutine one step per callback, as an asyncio Task does."""

    def __init__(
        self, loop: FakeLoop, coro: Coroutine[Any, Any, Any], future: asyncio.Future[Any]
    ) -> None:
        self.loop, self.coro, self.future = loop, coro, future

    def __call__(self, *_: Any) -> None:
        asyncio.events._set_running_loop(self.loop)  # type: ignore[arg-type]
        try:
            waited = self.coro.send(None)
        except StopIteration as stop:
            self.future.set_result(stop.value)
        except BaseException as error:
            self.future.set_exception(error)
        else:
            waited._asyncio_future_blocking = False
            waited.add_done_callback(self)
        finally:
            asyncio.events._set_running_loop(None)


class FakeTransport:
    """Records what the connection does to its transport.

    Behaves like asyncio's socket transport where it matters: close() and abort() call
    ``connection_lost`` from a later callback, a write after write_eof() raises
    RuntimeError, writes after close are dropped.  With ``tls=True`` close() is
    asyncio's SSL transport's: the connection is lost only when the client answers the
    close_notify (:meth:`answer_close`), or on abort().
    """

    def __init__(self, loop: FakeLoop, *, can_write_eof: bool = True, tls: bool = False) -> None:
        self.loop = loop
        self.protocol: asyncio.Protocol | None = None
        self.writes: list[bytes] = []
        self.reading = True
        self.pause_calls = 0
        self.resume_calls = 0
        self.closed = False
        self.aborted = False
        self.eof_written = False
        self._can_write_eof = can_write_eof
        self.tls = tls
        self.lost = False  # connection_lost is scheduled
        self.buffered = 0  # what get_write_buffer_size() says: bytes not yet in the socket
        self.write_error: BaseException | None = None  # raised by every write
        self.on_write: Callable[[bytes], None] | None = None  # e.g. pause writing

    @property
    def data(self) -> bytes:
        return b"".join(self.writes)

    def write(self, data: bytes) -> None:
        if self.write_error is not None:
            raise self.write_error
        if self.eof_written:
            raise RuntimeError("Cannot call write() after write_eof()")
        if self.closed:
            return
        self.writes.append(bytes(data))
        if self.on_write is not None:
            self.on_write(bytes(data))

    def pause_reading(self) -> None:
        self.pause_calls += 1
        self.reading = False

    def resume_reading(self) -> None:
        self.resume_calls += 1
        self.reading = True

    def is_closing(self) -> bool:
        return self.closed

    def can_write_eof(self) -> bool:
        return self._can_write_eof

    def write_eof(self) -> None:
        if not self.closed:
            self.eof_written = True

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            if not self.tls:
                self._lose()

    def answer_close(self) -> None:
        """The client's close_notify, after a TLS close()."""
        self._lose()

    def get_write_buffer_size(self) -> int:
        return self.buffered

    def abort(self) -> None:
        self.aborted = True
        self.closed = True
        self._lose()

    def _lose(self) -> None:
        if self.protocol is not None and not self.lost:
            self.lost = True
            self.loop.call_soon(self.protocol.connection_lost, None)

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("192.0.2.7", 50000), "sockname": ("192.0.2.1", 8000)}.get(
            name, default
        )


class ManualThreads(ThreadMode):
    """Thread mode without threads: the test runs each handler with :meth:`run_next`.

    Deterministic where a real pool is not needed: the handler runs ``run_threaded``
    on the test thread, so it must not wait for body bytes that have not been fed.
    Everything else (the body buffer, how handlers reach the loop) is ThreadMode's.
    """

    def __init__(self, handler: Handler, *, capacity: int = 1) -> None:  # no pool
        self.handler = handler
        self.capacity = capacity
        self.queued: list[Exchange] = []
        self.streams = StreamSlots(1)

    def start(self, exchange: Exchange) -> bool:
        if len(self.queued) >= self.capacity:
            return False
        self.queued.append(exchange)
        return True

    def close(self, timeout: float) -> None:
        pass

    def run_next(self) -> None:
        run_threaded(self.handler, self.queued.pop(0))


# -- handlers -------------------------------------------------------------------------


def hello(ex: HandlerExchange) -> Iterable[bytes]:
    ex.start_response(200, "OK", [("Content-Length", "2")])
    return [b"hi"]


@dataclass
class Harness:
    """One connection wired to the fakes, and what it did."""

    conn: HTTPConnection
    transport: FakeTransport
    loop: FakeLoop
    clock: FakeClock
    ctx: ConnectionContext
    calls: list[Request]
    opened: list[Any] = field(default_factory=list)
    closed: list[Any] = field(default_factory=list)
    access: list[tuple[Any, ...]] = field(default_factory=list)

    @property
    def settings(self) -> Settings:
        return self.ctx.settings

    @property
    def phase(self) -> Any:
        return self.conn.phase

    def feed(self, data: bytes) -> None:
        self.conn.data_received(data)  # must return normally, whatever the bytes

    def run(self) -> None:
        """Run the scheduled callbacks; none may raise."""
        self.loop.run()
        assert self.loop.errors == [], f"escaped a loop callback: {self.loop.errors!r}"

    def advance(self, seconds: float) -> None:
        """Move the clock on and run the server's deadline sweep for this connection."""
        self.clock.advance(seconds)
        self.loop.fire_timers()
        self.conn.check_deadline(self.clock())

    @property
    def written(self) -> bytes:
        return self.transport.data

    def responses(self) -> list[Response]:
        return parse_responses(self.written)

    def run_until(self, predicate: Callable[[], bool]) -> None:
        self.loop.run_until(predicate)
        assert self.loop.errors == [], f"escaped a loop callback: {self.loop.errors!r}"


def connect(
    handler: Handler | None = None,
    *,
    mode: Callable[[Handler], ExecutionMode] = InlineMode,
    fields: ServerFields | None = None,
    access_log: bool = False,
    can_write_eof: bool = True,
    tls: bool = False,
    **settings: Any,
) -> Harness:
    """A connection made on a fake transport, serving ``handler`` (hello by default).

    ``mode`` makes the execution mode from the handler (wrapped to count its calls in
    :attr:`Harness.calls`): InlineMode, ManualThreads, or ``lambda h: ThreadMode(...)``
    (then shut it down: ``harness.ctx.mode.close(...)``).
    """
    clock = FakeClock()
    loop = FakeLoop(clock)
    calls: list[Request] = []
    app = handler or hello

    def counting(ex: HandlerExchange) -> Iterable[bytes]:
        calls.append(ex.request)
        return app(ex)

    chosen = mode(counting)
    values = Settings(threads=0, **settings)
    opened: list[Any] = []
    closed: list[Any] = []
    access: list[tuple[Any, ...]] = []

    def describe(transport: asyncio.BaseTransport) -> ConnectionInfo:
        peer = transport.get_extra_info("peername")
        local = transport.get_extra_info("sockname")
        return ConnectionInfo(peer[0], peer[1], local[0], local[1], multithread=chosen.multithread)

    ctx = ConnectionContext(
        settings=values,
        mode=chosen,
        loop=loop,  # type: ignore[arg-type]
        describe=describe,
        opened=opened.append,
        closed=closed.append,
        limits=limits_of(values),
        fields=fields or ServerFields("httpkit"),
        access_log=(lambda *record: access.append(record)) if access_log else None,  # type: ignore[arg-type]
        tls=tls,
        clock=clock,
    )
    transport = FakeTransport(loop, can_write_eof=can_write_eof, tls=tls)
    conn = HTTPConnection(ctx)
    transport.protocol = conn
    conn.connection_made(transport)  # type: ignore[arg-type]
    return Harness(conn, transport, loop, clock, ctx, calls, opened, closed, access)


# -- requests and responses -----------------------------------------------------------


def get(target: str = "/", *fields: str, version: str = "1.1") -> bytes:
    lines = [f"GET {target} HTTP/{version}", "Host: example.test", *fields]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def post(body: bytes = b"", *fields: str, target: str = "/up", length: bool = True) -> bytes:
    lines = [f"POST {target} HTTP/1.1", "Host: example.test", *fields]
    if length:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


@dataclass
class Response:
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes
    head: bytes

    def header(self, name: str) -> str | None:
        values = [value for key, value in self.headers if key == name.lower()]
        return ", ".join(values) if values else None

    def count(self, name: str) -> int:
        return sum(1 for key, _ in self.headers if key == name.lower())


def parse_responses(data: bytes) -> list[Response]:
    """Split what a server wrote into responses (100 Continue included); strict enough
    that a response disagreeing with its own framing fails the test."""
    found: list[Response] = []
    while data:
        end = data.index(b"\r\n\r\n") + 4
        head, data = data[:end], data[end:]
        status_line, *lines = head[:-4].decode("latin-1").split("\r\n")
        version, status, reason = status_line.split(" ", 2)
        assert version == "HTTP/1.1", status_line
        headers = []
        for line in lines:
            name, _, value = line.partition(":")
            headers.append((name.lower(), value.strip()))
        response = Response(int(status), reason, headers, b"", head)
        length = response.header("content-length")
        if response.status < 200 or response.status in (204, 304):
            pass
        elif response.header("transfer-encoding") == "chunked":
            body = bytearray()
            while True:
                size_end = data.index(b"\r\n")
                size = int(data[:size_end], 16)
                body += data[size_end + 2 : size_end + 2 + size]
                assert data[size_end + 2 + size : size_end + 4 + size] == b"\r\n"
                data = data[size_end + 4 + size :]
                if size == 0:
                    break
            response.body = bytes(body)
        elif length is not None:
            assert len(data) >= int(length), f"body short of Content-Length: {data!r}"
            response.body, data = data[: int(length)], data[int(length) :]
        else:
            response.body, data = data, b""
        found.append(response)
    return found
