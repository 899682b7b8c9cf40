"""The two execution modes, as strategies behind one interface.

``threads=N`` runs handlers on a pool of worker threads and streams request bodies to
them; ``threads=0`` runs them inline on the event-loop thread, after their body has
been received in full (so that a read never blocks the loop).  A coroutine handler
(ASGI) runs as a task on the loop as soon as its head is parsed, and awaits its body
(:mod:`httpkit.server.tasks`).  The connection asks its mode; it never asks which mode
it is in.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from typing import Any, Protocol

from httpkit.errors import ProtocolError
from httpkit.server.contract import AsyncHandler, Handler
from httpkit.server.driver import run_inline, run_threaded
from httpkit.server.exchange import Channel, Exchange, HandlerSide
from httpkit.server.pool import WorkerPool
from httpkit.server.reqbody import AwaitedBody, RequestBody, SpooledBody, StreamingBody
from httpkit.server.streams import StreamSlots
from httpkit.server.tasks import TaskExchange, run_task

__all__ = ["ExecutionMode", "InlineMode", "LoopSide", "TaskMode", "ThreadMode", "WorkerSide"]


class LoopSide:
    """The handler runs on the loop thread: it writes and calls directly."""

    __slots__ = ("call", "streams", "write")

    def __init__(self, channel: Channel, streams: StreamSlots) -> None:
        self.write = channel.write
        self.streams = streams

        def call(callback: Callable[..., Any], *args: Any) -> None:
            callback(*args)

        self.call = call


class WorkerSide:
    """The handler runs on a worker thread: everything goes through the loop."""

    __slots__ = ("call", "streams", "write")

    def __init__(self, channel: Channel, streams: StreamSlots) -> None:
        self.write = channel.write_from_thread  # waits while the client reads slowly
        self.call = channel.call_on_loop
        self.streams = streams


class ExecutionMode(Protocol):
    multithread: bool  # handlers run on other threads than the loop's
    threads: int  # worker threads running handlers (0: none, on the loop)
    continue_at_once: bool  # 100 Continue goes out when the head is read

    def side(self, channel: Channel) -> HandlerSide:
        """How the handlers of one connection reach it."""

    def new_body(self, resume: Callable[[], None]) -> RequestBody:
        """A buffer for a request body; ``resume`` asks the loop to read on."""

    def start(self, exchange: Exchange) -> bool:
        """The head is parsed.  False: no capacity left (answer 503)."""

    def body_complete(self, exchange: Exchange) -> None:
        """The body is in (never called for a request without one)."""

    def body_failed(self, exchange: Exchange, error: ProtocolError) -> bool:
        """The body stopped with ``error``: True if the connection must answer it now
        (no handler runs to see it)."""

    def connection_lost(self, exchange: Exchange) -> None:
        """The client went away in the middle of ``exchange``."""

    def client_closed(self, exchange: Exchange) -> None:
        """The client closed its side (EOF) after sending the request of ``exchange``:
        it may be gone, or only half-closed and still reading."""

    def close(self, timeout: float) -> None:
        """Stop, letting running handlers finish for up to ``timeout`` seconds."""

    async def stop(self, timeout: float) -> None:
        """Loop thread: :meth:`close`, returning once the handlers have ended (or after
        about ``timeout`` seconds): what runs after it (the application's shutdown)
        must not run beside a handler still cleaning up."""

    def occupancy(self) -> tuple[int, int]:
        """(threads running a handler, requests waiting for one), for statistics."""

    def requests_running(self) -> int:
        """Requests whose handler runs now (started, not yet returned), for statistics."""


class InlineMode:
    """Handlers run on the loop thread once their whole body has arrived."""

    multithread = False
    continue_at_once = True  # RFC 9110 10.1.1: the body is read before the handler runs
    threads = 0

    def __init__(self, handler: Handler, max_streams: int = 1000) -> None:
        self.handler = handler
        self.streams = StreamSlots(max_streams)  # a waiting stream holds no thread
        self.running = 0  # 1 while a handler runs (it may ask for the statistics)

    def side(self, channel: Channel) -> HandlerSide:
        return LoopSide(channel, self.streams)

    def new_body(self, resume: Callable[[], None]) -> RequestBody:
        return SpooledBody()

    def start(self, exchange: Exchange) -> bool:
        if exchange.body is None:  # nothing to wait for (_run, one call fewer per request)
            self.running = 1
            try:
                run_inline(self.handler, exchange)
            finally:
                self.running = 0
        return True

    def body_complete(self, exchange: Exchange) -> None:
        self._run(exchange)

    def _run(self, exchange: Exchange) -> None:
        self.running = 1
        try:
            run_inline(self.handler, exchange)
        finally:
            self.running = 0

    def body_failed(self, exchange: Exchange, error: ProtocolError) -> bool:
        return True  # the handler was waiting for the whole body: it never runs

    def connection_lost(self, exchange: Exchange) -> None:
        exchange.close()  # nothing else reads the spooled body

    def client_closed(self, exchange: Exchange) -> None:
        pass  # the response goes on: a half-closed client still reads it

    def close(self, timeout: float) -> None:
        pass

    async def stop(self, timeout: float) -> None:
        pass  # a handler runs within one loop callback: none is running now

    def occupancy(self) -> tuple[int, int]:
        return 0, 0  # no threads

    def requests_running(self) -> int:
        return self.running  # on the loop thread: 0, unless a handler asks


class ThreadMode:
    """Handlers run on a worker pool as soon as their head is parsed."""

    multithread = True
    continue_at_once = False  # sent on the handler's first read instead

    def __init__(
        self, handler: Handler, threads: int, max_pending: int, max_streams: int | None = None
    ) -> None:
        self.pool = WorkerPool(threads, max_pending)
        self.threads = threads
        self._job = functools.partial(run_threaded, handler)
        # Each open stream holds a worker thread: by default half of them at most, but at
        # least one, or --threads 1 would refuse every stream.
        self.streams = StreamSlots(max(1, threads // 2) if max_streams is None else max_streams)

    def side(self, channel: Channel) -> HandlerSide:
        return WorkerSide(channel, self.streams)

    def new_body(self, resume: Callable[[], None]) -> RequestBody:
        return StreamingBody(resume)

    def start(self, exchange: Exchange) -> bool:
        return self.pool.submit(self._job, exchange)

    def body_complete(self, exchange: Exchange) -> None:
        pass

    def body_failed(self, exchange: Exchange, error: ProtocolError) -> bool:
        return False  # the running handler's next read raises it; the driver answers

    def connection_lost(self, exchange: Exchange) -> None:
        pass  # the worker's read raises ClientDisconnectedError; it closes the exchange

    def client_closed(self, exchange: Exchange) -> None:
        pass  # the response goes on: a half-closed client still reads it

    def close(self, timeout: float) -> None:
        self.pool.shutdown(timeout)

    async def stop(self, timeout: float) -> None:
        # Joining the workers blocks: not on the loop, whose callbacks they may await.
        await asyncio.get_running_loop().run_in_executor(None, self.close, timeout)

    def occupancy(self) -> tuple[int, int]:
        outstanding = self.pool.outstanding  # queued or running: a free thread takes a job
        busy = min(outstanding, self.pool.threads)
        return busy, outstanding - busy

    def requests_running(self) -> int:
        return self.occupancy()[0]  # one per busy thread


class TaskMode:
    """Coroutine handlers run as tasks on the loop as soon as their head is parsed."""

    multithread = False
    continue_at_once = True  # the task may await the body at once: no reason to wait
    threads = 0  # tasks on the loop

    def __init__(
        self, handler: AsyncHandler, loop: asyncio.AbstractEventLoop, max_streams: int = 1000
    ) -> None:
        self.handler = handler
        self.loop = loop
        # The exchanges whose task runs; each view holds its task: a strong reference
        # until it ends (the loop keeps only weak ones).  run_task removes its own entry
        # when it ends, with no done-callback to schedule.
        self.running: dict[Exchange, TaskExchange] = {}
        self.streams = StreamSlots(max_streams)  # a waiting stream holds no thread

    def side(self, channel: Channel) -> HandlerSide:
        return LoopSide(channel, self.streams)

    def new_body(self, resume: Callable[[], None]) -> RequestBody:
        return AwaitedBody(resume)

    def start(self, exchange: Exchange) -> bool:
        view = TaskExchange(exchange)
        # asyncio.Task itself, not loop.create_task(): one Python frame fewer per request.
        view.task = asyncio.Task(run_task(self.handler, view, self.running), loop=self.loop)
        self.running[exchange] = view
        return True

    def body_complete(self, exchange: Exchange) -> None:
        pass

    def body_failed(self, exchange: Exchange, error: ProtocolError) -> bool:
        return False  # the task's next receive raises it; run_task answers

    def connection_lost(self, exchange: Exchange) -> None:
        view = self.running.get(exchange)
        if view is not None:
            view.lose()

    def client_closed(self, exchange: Exchange) -> None:
        # ASGI's http.disconnect: a handler waiting for the client to go (long polling,
        # server-sent events) is told now; what it still sends goes out to a client that
        # only half-closed.
        view = self.running.get(exchange)
        if view is not None:
            view.hang_up()

    def close(self, timeout: float) -> None:
        """Any thread: cancel the tasks still running (their connections are closed)."""
        for view in list(self.running.values()):
            self.loop.call_soon_threadsafe(view.cancel)

    async def stop(self, timeout: float) -> None:
        """Cancel the tasks still running and wait for their clean-up (``finally``
        blocks, ``async with`` exits) to end -- for ``timeout`` seconds at most."""
        tasks = [view.task for view in self.running.values() if view.task is not None]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=timeout)

    def occupancy(self) -> tuple[int, int]:
        return 0, 0  # no threads: a running task waits for nothing but its client

    def requests_running(self) -> int:
        return len(self.running)
