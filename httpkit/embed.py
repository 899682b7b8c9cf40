"""httpkit inside another program: a server the program starts, asks about and stops.

:class:`AsyncServer` runs on the program's own asyncio loop (``async with``, or
``await start()`` / ``await stop()``); :func:`serving` and :class:`BackgroundServer` run
one in a thread of its own, for a program that is not asynchronous.  Unlike
:func:`httpkit.serve`, neither installs signal handlers, configures logging or changes
anything else the whole process shares: the program stays in charge of its lifecycle.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Any

from httpkit.asgi.types import ASGIApp
from httpkit.config import Settings
from httpkit.errors import ConfigError
from httpkit.runner import log_banner, log_metrics, make_server, new_event_loop, url_of
from httpkit.server import Server, Stats
from httpkit.wsgitypes import WSGIApp

__all__ = ["AsyncServer", "BackgroundServer", "serving"]

STOP_MARGIN = 10.0  # seconds a stop may take beyond its grace (closing the worker threads)

# Settings that belong to the process, not to one server among the program's parts.
_PROCESS_SETTINGS = {
    "workers": "worker processes are for httpkit serve; an embedded server runs in this one",
    "reload": "reloading restarts the process, which is the program's, not the server's",
    "log_level": "the program configures logging: logging.getLogger('httpkit').setLevel(...)",
    "access_log_file": "the program configures logging: add a handler to the "
    "'httpkit.access' logger",
}


def embedded_settings(settings: dict[str, Any], *, own_loop: bool) -> Settings:
    """``settings`` validated as :func:`httpkit.serve` validates them, less those that an
    embedded server cannot honour (refused, not ignored)."""
    refused = dict(_PROCESS_SETTINGS)
    if not own_loop:
        refused["loop"] = "the server runs on the running loop: choose it when making the loop"
    for name, reason in refused.items():
        if name in settings:
            raise ConfigError(f"{name}: not a setting of an embedded server ({reason})")
    return Settings(**settings)


class AsyncServer:
    """A server for the WSGI or ASGI application ``app`` on the running asyncio loop.

    ::

        async with httpkit.AsyncServer(app, port=8080) as server:
            print("serving on", server.url)
            await the_program_itself()

    ``settings`` are those of :func:`httpkit.serve` (:doc:`/settings`), checked here;
    process-wide ones (``workers``, ``reload``, ``log_level``, ``access_log_file``,
    ``loop``) are refused.  No signal handler is installed: the program stops the
    server, with :meth:`stop` or by leaving the ``async with`` block.
    """

    def __init__(self, app: WSGIApp | ASGIApp, **settings: Any) -> None:
        self._prepare(app, embedded_settings(settings, own_loop=False))

    @classmethod
    def _with_settings(cls, app: WSGIApp | ASGIApp, settings: Settings) -> AsyncServer:
        """A server with ``settings`` checked already (a background server's)."""
        server = cls.__new__(cls)
        server._prepare(app, settings)
        return server

    def _prepare(self, app: WSGIApp | ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self._core: Server | None = None
        self._addresses: list[str | tuple[str, int]] = []
        self._starting = False
        self._stopped = False

    @property
    def core(self) -> Server:
        """The connection server underneath (open connections, its settings)."""
        if self._core is None:
            raise RuntimeError("the server is not started")
        return self._core

    @property
    def addresses(self) -> list[str | tuple[str, int]]:
        """Where the server listens (listened, once stopped): (host, port) pairs and
        Unix socket paths."""
        self.core  # noqa: B018 (raises when not started)
        return list(self._addresses)

    def stats(self) -> Stats:
        """The server's statistics now (:meth:`httpkit.server.Server.stats`)."""
        return self.core.stats()

    @property
    def url(self) -> str:
        """The first address as a URL: ``http://127.0.0.1:8000`` (no trailing slash;
        https with ``certfile``), or ``unix:PATH`` for a Unix socket."""
        scheme = "https" if self.settings.certfile else "http"
        return url_of(self.addresses[0], scheme)

    @property
    def port(self) -> int:
        """The port of the first TCP address (the one picked, with ``port=0``)."""
        for address in self.addresses:
            if isinstance(address, tuple):
                return address[1]
        raise RuntimeError("the server has no TCP listener")

    async def start(self) -> None:
        """Bind and start accepting; returns once the server listens.  A setting that
        cannot be put to work (an address in use) raises :class:`~httpkit.errors.ConfigError`."""
        if self._starting or self._core is not None:
            raise RuntimeError("the server is started already (a server starts once)")
        self._starting = True
        try:
            core = make_server(self.app, self.settings)
            core.owns_sockets = self.settings.fd is None  # an inherited socket is not ours
            await core.start()  # binding comes first: a failure leaves nothing to clean up
        finally:
            self._starting = False  # a failed start may be tried again
        self._core = core
        self._addresses = core.addresses  # still known once the sockets are closed
        log_banner(core.addresses, self.settings, core)
        if core.metrics is not None:
            log_metrics(core.metrics.addresses[0])

    async def stop(self, grace: float | None = None) -> None:
        """Drain and stop: stop accepting, let requests in progress finish for ``grace``
        seconds (default: the ``graceful_timeout`` setting), then close everything.
        Stopping a stopped server does nothing."""
        if self._core is None or self._stopped:
            return
        self._stopped = True
        await self._core.shutdown(grace)

    async def serve_forever(self) -> None:
        """Start (unless started) and serve until :meth:`stop` is called; when the task
        running this is cancelled, drain and stop, then let the cancellation through."""
        if self._core is None:
            await self.start()
        try:
            await self.core.serve_forever()
        except asyncio.CancelledError:
            await self.stop()
            raise

    async def __aenter__(self) -> AsyncServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()


class BackgroundServer:
    """A server for ``app`` in a thread of its own, with its own event loop.

    :meth:`start` returns once the server listens; an error at start-up (a bad setting,
    an address in use) is raised there, in the caller's thread.  :func:`serving` is the
    same as a ``with`` block.  The settings are as for :class:`AsyncServer`, and
    ``loop`` chooses the thread's event loop.
    """

    def __init__(self, app: WSGIApp | ASGIApp, **settings: Any) -> None:
        self.settings = embedded_settings(settings, own_loop=True)
        self._server = AsyncServer._with_settings(app, self.settings)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._started = threading.Event()
        self._failure: BaseException | None = None
        self._starting: asyncio.Task[None] | None = None
        self._lock = threading.Lock()  # between a start given up and its thread
        self._given_up = False

    @property
    def core(self) -> Server:
        """The connection server underneath (open connections, its settings)."""
        return self._server.core

    @property
    def addresses(self) -> list[str | tuple[str, int]]:
        """Where the server listens: (host, port) pairs and Unix socket paths."""
        return self._server.addresses

    def stats(self) -> Stats:
        """The server's statistics now, from any thread (:meth:`httpkit.server.Server.stats`)."""
        return self._server.stats()

    @property
    def url(self) -> str:
        """The first address as a URL (see :attr:`AsyncServer.url`)."""
        return self._server.url

    @property
    def port(self) -> int:
        """The port of the first TCP address (the one picked, with ``port=0``)."""
        return self._server.port

    def start(self) -> None:
        """Start the thread and wait until the server listens (or failed to).

        A start that takes longer than the ``startup_timeout`` setting (a slow ASGI
        lifespan startup) is called off: what it began is undone and the thread ends
        before :exc:`RuntimeError` is raised."""
        if self._thread is not None:
            raise RuntimeError("the server is started already (a server starts once)")
        self._loop = loop = new_event_loop(self.settings.loop)
        self._starting = loop.create_task(self._server.start())  # runs in the thread
        self._thread = threading.Thread(target=self._run, name="httpkit-server", daemon=True)
        self._thread.start()
        timeout = self.settings.startup_timeout
        if not self._started.wait(timeout) and self._give_up():
            self._thread.join()
            raise RuntimeError(f"the server did not start within {timeout:g} s (startup_timeout)")
        if self._failure is not None:
            self._thread.join()
            raise self._failure

    def _give_up(self) -> bool:
        """Call the start off, unless it has just finished (then False)."""
        with self._lock:
            if self._started.is_set():
                return False
            self._given_up = True
            assert self._loop is not None and self._starting is not None
            self._loop.call_soon_threadsafe(self._starting.cancel)
            return True

    def stop(self, grace: float | None = None) -> None:
        """Drain and stop (see :meth:`AsyncServer.stop`), then wait for the thread.
        Not from one of the server's own requests: it would wait for itself."""
        thread, loop = self._thread, self._loop
        if thread is None or loop is None or not thread.is_alive():
            return
        if threading.current_thread() is thread:
            raise RuntimeError("stop() from the server's own thread would wait for itself")
        grace = self.settings.graceful_timeout if grace is None else grace
        stopping = asyncio.run_coroutine_threadsafe(self._server.stop(grace), loop)
        stopping.result(grace + STOP_MARGIN)
        thread.join(STOP_MARGIN)

    def _run(self) -> None:
        loop, starting = self._loop, self._starting
        assert loop is not None and starting is not None
        failure: BaseException | None = None
        try:
            loop.run_until_complete(starting)
        except BaseException as error:  # handed to start(), in the caller's thread
            failure = error
        with self._lock:
            given_up = self._given_up
            self._failure = None if given_up else failure
            self._started.set()
        try:
            if failure is None and given_up:  # it finished as start() gave up on it
                loop.run_until_complete(self._server.stop(0.0))
            elif failure is None:
                loop.run_until_complete(self._server.serve_forever())
        finally:
            loop.run_until_complete(loop.shutdown_default_executor())
            loop.close()

    def __enter__(self) -> BackgroundServer:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


@contextmanager
def serving(app: WSGIApp | ASGIApp, **settings: Any) -> Iterator[BackgroundServer]:
    """Serve ``app`` in a background thread for the duration of the ``with`` block::

        with httpkit.serving(app, port=8080) as server:
            print("serving on", server.url)
            the_program_itself()

    The block is entered once the server listens; leaving it drains and stops the
    server (requests in progress get ``graceful_timeout`` seconds).  Settings are as
    for :class:`BackgroundServer`.
    """
    server = BackgroundServer(app, **settings)
    server.start()
    try:
        yield server
    finally:
        server.stop()
