"""The server: listeners, the set of open connections, the worker pool and timeouts.

``Server(handler, settings)`` is started inside a running event loop with
:meth:`Server.start` and stopped with :meth:`Server.shutdown`, which stops accepting,
lets requests in progress finish and closes everything.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import socket
import time
from collections.abc import Callable, Coroutine
from typing import Any

from httpkit.config import Settings
from httpkit.errors import ConfigError
from httpkit.server.accesslog import AccessLog
from httpkit.server.context import ConnectionContext, limits_of
from httpkit.server.contract import AsyncHandler, Handler, is_async_handler, lifecycle_hook
from httpkit.server.forwarded import ProxyTrust
from httpkit.server.headers import ServerFields
from httpkit.server.info import ConnectionInfo
from httpkit.server.listeners import Listener, bind_sockets
from httpkit.server.metrics import PUBLISH_PERIOD, StatsShare, metrics_handler, metrics_settings
from httpkit.server.modes import ExecutionMode, InlineMode, TaskMode, ThreadMode
from httpkit.server.phase import Phase
from httpkit.server.preamble import PreambleReader
from httpkit.server.protocol import HTTPConnection
from httpkit.server.proxyprotocol import Address
from httpkit.server.stats import Stats, Tally
from httpkit.server.streams import stream_limit
from httpkit.server.tls import client_issuer, client_subject, make_ssl_context

__all__ = ["Server"]

error_log = logging.getLogger("httpkit.error")

_IN_FLIGHT = frozenset((Phase.HEAD, Phase.BODY, Phase.RESPONDING, Phase.FLUSHING))


class Server:
    """Serves ``handler`` with ``settings`` (see the module documentation)."""

    def __init__(
        self,
        handler: Handler | AsyncHandler,
        settings: Settings | None = None,
        *,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.handler = handler
        self.settings = settings = settings if settings is not None else Settings()
        self.limits = limits_of(settings)
        self.clock = clock  # None: the loop's clock (tests inject a fake one)
        # Compiled even when off, so that a bad format is refused now, not when the
        # access log is turned on in production.
        access_log = AccessLog(settings.access_log_format)
        self.access_log: AccessLog | None = access_log if settings.access_log else None
        self.ssl_context = make_ssl_context(settings)
        self.proxy: ProxyTrust | None = ProxyTrust(settings) if settings.trusted_proxy else None
        self.fields = ServerFields(settings.server_header)
        self.owns_sockets = True  # a worker process leaves Unix socket files to its parent
        self.mode: ExecutionMode | None = None
        self.context: ConnectionContext | None = None
        self.connections: set[HTTPConnection] = set()
        self.open_count = 0  # accepted, including those whose transport is being made
        self.tally = Tally()  # statistics: see stats()
        self.metrics: Server | None = None  # the metrics_bind listener's own server
        self.stats_share: StatsShare | None = None  # set in a supervised worker process
        self._publisher: asyncio.TimerHandle | None = None
        self.listeners: list[Listener] = []
        self.preambles: set[PreambleReader] = set()  # PROXY headers before TLS, being read
        self.draining = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._sweeper: asyncio.TimerHandle | None = None
        self._stopped: asyncio.Future[None] | None = None

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            raise RuntimeError("the server is not started")
        return self._loop

    @property
    def addresses(self) -> list[str | tuple[str, int]]:
        """Where the server listens: (host, port) pairs or Unix socket paths."""
        return [listener.address for listener in self.listeners]

    async def start(self, sockets: list[socket.socket] | None = None) -> None:
        """Bind (unless ``sockets`` are given), start the handler (its ``startup()``),
        start the workers and start accepting.

        Everything is bound first (the listeners, then ``metrics_bind``), so that an
        address in use is refused before the application starts.  A failure or a
        cancellation part-way leaves nothing behind: what was started is undone.
        """
        self._loop = asyncio.get_running_loop()
        self._stopped = self._loop.create_future()
        for sock in sockets if sockets is not None else bind_sockets(self.settings):
            self.listeners.append(Listener(self._loop, sock, self._accepted))
        started_handler = False
        try:
            if self.settings.metrics_bind is not None:
                await self._start_metrics()
            startup = lifecycle_hook(self.handler, "startup")
            if startup is not None:
                await startup()  # before the first accept
            started_handler = True
            self._start_serving()
        except BaseException:
            await self._undo_start(started_handler)
            raise

    def _start_serving(self) -> None:
        settings = self.settings
        self.mode = self._execution_mode()
        self.context = ConnectionContext(
            settings=settings,
            mode=self.mode,
            loop=self.loop,
            describe=self.connection_info,
            opened=self.connection_opened,
            closed=self.connection_closed,
            limits=self.limits,
            fields=self.fields,
            access_log=self.access_log,
            proxy=self.proxy,
            tls=self.ssl_context is not None,
            clock=self.clock,
            tally=self.tally,
        )
        for listener in self.listeners:
            listener.resume()
        self._sweep()

    async def _undo_start(self, started_handler: bool) -> None:
        """What a failed or cancelled :meth:`start` had begun, undone (nothing was
        accepted yet, or the connections are cut)."""
        for listener in self.listeners:
            listener.close(unlink=self.owns_sockets)
        self.listeners.clear()
        self.cut_connections()
        if self._sweeper is not None:
            self._sweeper.cancel()
        if self.mode is not None:
            await self.loop.run_in_executor(None, self.mode.close, 1.0)
        await self._stop_metrics()
        if started_handler:
            await self._shut_down_handler()

    def _execution_mode(self) -> ExecutionMode:
        handler, settings = self.handler, self.settings
        streams = stream_limit(settings)
        if is_async_handler(handler):
            return TaskMode(handler, self.loop, streams)  # type: ignore[arg-type]
        if settings.threads > 0:
            return ThreadMode(handler, settings.threads, settings.max_pending, streams)  # type: ignore[arg-type]
        return InlineMode(handler, streams)  # type: ignore[arg-type]

    async def serve_forever(self) -> None:
        """Wait until :meth:`shutdown` has finished."""
        assert self._stopped is not None, "start() first"
        await asyncio.shield(self._stopped)

    # -- connections -------------------------------------------------------------------

    def new_connection(self, proxied: Address | None = None) -> HTTPConnection:
        """The protocol object of one accepted connection (``proxied``: the client's
        address from a PROXY header read before TLS)."""
        assert self.context is not None, "start() first"
        return HTTPConnection(self.context, proxied)

    def _accepted(self, sock: socket.socket) -> bool:
        self.open_count += 1
        self.tally.connections += 1
        if self.ssl_context is None:
            made = self.loop.connect_accepted_socket(self.new_connection, sock)
        elif self._preamble_expected(sock):
            # The PROXY header comes before the ClientHello: read it first (preamble.py).
            reader = PreambleReader(
                self.loop, sock, self.settings.header_timeout, self._start_tls, self._lost
            )
            reader.start()
            if not reader.finished:
                self.preambles.add(reader)
            return self.open_count < self.settings.max_connections and not self.draining
        else:
            made = self._connect_tls(sock, self.new_connection)
        task = self.loop.create_task(made)
        task.add_done_callback(lambda done: self._transport_made(done, sock))
        return self.open_count < self.settings.max_connections and not self.draining

    def _connect_tls(
        self, sock: socket.socket, factory: Callable[[], HTTPConnection]
    ) -> Coroutine[Any, Any, Any]:
        return self.loop.connect_accepted_socket(
            factory,
            sock,
            ssl=self.ssl_context,
            ssl_handshake_timeout=self.settings.header_timeout,
        )

    def _preamble_expected(self, sock: socket.socket) -> bool:
        if not self.settings.proxy_protocol or self.proxy is None:
            return False
        try:
            peer = sock.getpeername()
        except OSError:
            return False  # gone already: the TLS transport will notice
        return self.proxy.trusts(peer[0] if isinstance(peer, tuple) else "")

    def _start_tls(self, sock: socket.socket, client: Address | None) -> None:
        self.preambles = {reader for reader in self.preambles if not reader.finished}
        made = self._connect_tls(sock, lambda: self.new_connection(client))
        task = self.loop.create_task(made)
        task.add_done_callback(lambda done: self._transport_made(done, sock))

    def _lost(self, sock: socket.socket) -> None:
        self.preambles = {reader for reader in self.preambles if not reader.finished}
        sock.close()
        self._one_fewer()

    def _transport_made(self, task: asyncio.Task[Any], sock: socket.socket) -> None:
        if task.cancelled() or task.exception() is not None:
            sock.close()
            self._one_fewer()

    def connection_opened(self, conn: HTTPConnection) -> None:
        self.connections.add(conn)

    def connection_closed(self, conn: HTTPConnection) -> None:
        if conn in self.connections:
            tally = self.tally
            tally.requests += conn.requests_served
            tally.bytes_in += conn.bytes_in
            tally.bytes_out += conn.bytes_out
            self.connections.discard(conn)
            self._one_fewer()

    def _one_fewer(self) -> None:
        self.open_count -= 1
        if self.open_count < self.settings.max_connections and not self.draining:
            for listener in self.listeners:
                listener.resume()

    def requests_in_flight(self) -> int:
        """Connections in the middle of a request: reading it, running it, sending it
        (not those the server is closing, its last response written)."""
        return sum(1 for conn in self.connections if conn.phase in _IN_FLIGHT)

    def connection_info(self, transport: asyncio.BaseTransport) -> ConnectionInfo:
        peer = transport.get_extra_info("peername")
        local = transport.get_extra_info("sockname")
        multithread = self.mode is not None and self.mode.multithread
        scheme = "http" if self.ssl_context is None else "https"
        if isinstance(peer, tuple) and isinstance(local, tuple):
            info = ConnectionInfo(peer[0], peer[1], local[0], local[1], scheme, multithread)
        else:
            info = ConnectionInfo("", 0, str(local or self.settings.unix), 0, scheme, multithread)
        if self.proxy is not None:
            info.trusted_proxy = self.proxy.trusts(info.peer_host)
        if self.settings.ca_certs is not None:
            ssl_object = transport.get_extra_info("ssl_object")
            info.client_subject = client_subject(ssl_object)
            info.client_issuer = client_issuer(ssl_object)
        return info

    # -- statistics --------------------------------------------------------------------

    def stats(self) -> Stats:
        """The server's figures now (see :class:`~httpkit.server.stats.Stats`).

        Callable from any thread: off the loop's thread, the loop computes them (so that
        they are consistent) and this waits for the answer.
        """
        loop = self._loop
        if loop is None or not loop.is_running() or _running_loop() is loop:
            return self.stats_now()
        answer: concurrent.futures.Future[Stats] = concurrent.futures.Future()

        def compute() -> None:
            try:
                answer.set_result(self.stats_now())
            except BaseException as error:
                answer.set_exception(error)

        loop.call_soon_threadsafe(compute)
        return answer.result(timeout=10)

    def stats_now(self) -> Stats:
        """Loop thread (or a server not running): :meth:`stats`."""
        tally = self.tally
        connections = list(self.connections)
        mode = self.mode
        busy, pending = mode.occupancy() if mode is not None else (0, 0)
        return Stats(
            connections=self.open_count,
            connections_total=tally.connections,
            # The mode's: an ASGI application runs as tasks whatever --threads says.
            threads=mode.threads if mode is not None else 0,
            threads_busy=busy,
            requests_pending=pending,
            requests_total=tally.requests + sum(conn.requests_served for conn in connections),
            responses_by_server=dict(tally.own_responses),
            bytes_in=tally.bytes_in + sum(conn.bytes_in for conn in connections),
            bytes_out=tally.bytes_out + sum(conn.bytes_out for conn in connections),
            requests_running=mode.requests_running() if mode is not None else 0,
        )

    async def _start_metrics(self) -> None:
        self.metrics = Server(metrics_handler(self._all_figures), metrics_settings(self.settings))
        share = self.stats_share
        if share is None:
            try:
                await self.metrics.start()
            except ConfigError as error:
                raise ConfigError(f"metrics_bind: {error}") from None
            return
        self.metrics.owns_sockets = False  # the supervisor's listener, shared by its workers
        await self.metrics.start([share.sock])
        self._publish()

    def _all_figures(self) -> Stats:
        """What a scrape reports: this server's figures, and its sibling workers'."""
        figures = self.stats_now()
        if self.stats_share is not None:
            for other in self.stats_share.others():
                figures += other
        return figures

    def _publish(self) -> None:
        assert self.stats_share is not None
        try:
            self.stats_share.publish(self.stats_now())
        except OSError as error:
            error_log.warning("cannot publish the statistics: %s", error)
        self._publisher = self.loop.call_later(PUBLISH_PERIOD, self._publish)

    async def _stop_metrics(self) -> None:
        if self._publisher is not None:
            self._publisher.cancel()
        if self.stats_share is not None:
            try:  # the last word: a replaced worker's requests still count in the totals
                self.stats_share.publish(self.stats_now().stopped())
            except OSError as error:
                error_log.warning("cannot publish the statistics: %s", error)
        if self.metrics is not None:
            await self.metrics.shutdown(0.5)

    # -- timeouts ----------------------------------------------------------------------

    def _sweep(self) -> None:
        now = self.clock() if self.clock is not None else self.loop.time()
        for conn in list(self.connections):
            conn.check_deadline(now)
        settings = self.settings
        shortest = min(
            settings.header_timeout,
            settings.keepalive_timeout,
            settings.body_timeout,
            settings.linger_timeout,
        )
        # A deadline is honoured to within a quarter of the shortest timeout (at most 1 s).
        self._sweeper = self.loop.call_later(min(1.0, max(0.02, shortest / 4)), self._sweep)

    # -- shutdown ----------------------------------------------------------------------

    def cut_connections(self) -> None:
        """Abort every connection now: their clients see truncated responses."""
        for conn in list(self.connections):
            conn.abort()
        for reader in list(self.preambles):
            reader.cancel()

    async def _shut_down_handler(self) -> None:
        shutdown = lifecycle_hook(self.handler, "shutdown")
        if shutdown is None:
            return
        try:
            await shutdown()
        except Exception as error:
            error_log.error("error in the application's shutdown", exc_info=error)

    async def shutdown(self, grace: float | None = None) -> None:
        """Drain: stop accepting, close idle connections, let requests in progress finish.

        Responses still going out carry ``Connection: close``.  A connection the server
        is closing is cut once its client has every byte, whatever TLS's close_notify
        would wait for.  After ``grace`` seconds (default: the ``graceful_timeout``
        setting) the connections left are cut.
        """
        if self.draining:
            return
        self.draining = True
        if self.context is not None:
            self.context.draining = True
        grace = self.settings.graceful_timeout if grace is None else grace
        for listener in self.listeners:
            listener.pause()
            listener.accept_backlog()  # they get the idle grace like any other connection
            listener.close(unlink=self.owns_sockets)
        deadline = time.monotonic() + grace
        while self.connections and time.monotonic() < deadline:
            now = self.clock() if self.clock is not None else self.loop.time()
            for conn in list(self.connections):
                conn.drain()
                conn.check_deadline(now)  # the sweep's tick may be slower than a stop
            await asyncio.sleep(0.02)
        if self.connections:
            error_log.warning("graceful timeout: cutting %d connections", len(self.connections))
        self.cut_connections()
        if self._sweeper is not None:
            self._sweeper.cancel()
        if self.mode is not None:
            await self.mode.stop(1.0)  # cancelled tasks clean up before the app's shutdown
        await self._stop_metrics()
        await self._shut_down_handler()
        if self._stopped is not None and not self._stopped.done():
            self._stopped.set_result(None)


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None
