"""The ``lifespan`` scope: an application's startup and shutdown, once per server.

The ASGI lifespan spec: the server calls the application once with a ``lifespan``
scope, sends ``lifespan.startup`` before serving and ``lifespan.shutdown`` after.  An
application that raises (or returns) before answering the startup does not support
lifespan: it is served anyway.  One that answers ``lifespan.startup.failed`` stops the
start with one line of its message (the rest at debug level).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from httpkit.asgi.scope import ASGI_VERSION
from httpkit.asgi.types import ASGIApp, Message
from httpkit.errors import ConfigError

__all__ = ["Lifespan"]

server_log = logging.getLogger("httpkit.server")
error_log = logging.getLogger("httpkit.error")

END_TIMEOUT = 1.0  # seconds a cancelled lifespan scope gets to end


def _summary(message: str) -> tuple[str, bool]:
    """The line of a failure's message that says what failed, and whether the message
    has more lines.  Starlette and FastAPI send their traceback, whose last line is the
    exception; another message says it first."""
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    if not lines:
        return "", False
    traceback = lines[0].startswith("Traceback (most recent call last)")
    return lines[-1] if traceback else lines[0], len(lines) > 1


class Lifespan:
    """One run of the application's lifespan scope (see the module documentation)."""

    def __init__(self, app: ASGIApp, state: dict[str, Any]) -> None:
        self.app = app
        self.state = state
        self.supported = False
        self._shutting_down: asyncio.Future[None] | None = None
        self._reply: asyncio.Future[Message | None] | None = None  # None: the app ended
        self._task: asyncio.Task[None] | None = None
        self._received = 0
        self._failed = False  # the application answered lifespan.startup.failed

    async def startup(self) -> None:
        """Run the startup; ConfigError if the application says it failed."""
        loop = asyncio.get_running_loop()
        self._shutting_down = loop.create_future()
        self._reply = loop.create_future()
        self._task = loop.create_task(self._run())
        try:
            reply = await self._reply
        except asyncio.CancelledError:  # the server's start was called off: so is this
            self._task.cancel()
            raise
        if reply is None:
            server_log.info("the application does not support the ASGI lifespan scope")
            return
        if reply["type"] == "lifespan.startup.failed":
            await self._end()
            message = str(reply.get("message", ""))
            summary, more = _summary(message)
            if more:  # the whole message (a traceback, say) for whoever needs it
                error_log.debug("the application's startup failed:\n%s", message.rstrip())
                summary += " (its whole message at --log-level debug)"
            raise ConfigError(f"the application's startup failed: {summary}")
        self.supported = True

    async def shutdown(self, timeout: float) -> None:
        """Run the shutdown (up to ``timeout`` seconds), if startup was supported."""
        if not self.supported or self._shutting_down is None:
            return
        self._reply = asyncio.get_running_loop().create_future()
        self._shutting_down.set_result(None)
        try:
            reply = await asyncio.wait_for(asyncio.shield(self._reply), timeout)
        except asyncio.TimeoutError:
            error_log.error("the application's shutdown took more than %.1f s", timeout)
            await self._end()
            return
        if reply is not None and reply["type"] == "lifespan.shutdown.failed":
            error_log.error("the application's shutdown failed: %s", reply.get("message", ""))
        await self._end()

    async def _end(self) -> None:
        """The server is done with the lifespan scope: an application still in it (a
        shutdown past its timeout, a failed startup still awaiting) is cancelled and
        awaited, not left pending until the loop closes (and destroyed with a warning)."""
        task = self._task
        if task is not None and not task.done():
            task.cancel()
            await asyncio.wait([task], timeout=END_TIMEOUT)

    async def _run(self) -> None:
        scope = {"type": "lifespan", "asgi": ASGI_VERSION, "state": self.state}
        try:
            await self.app(scope, self._receive, self._send)
        except asyncio.CancelledError:
            raise  # the server stopped waiting (see _end): nothing to report
        except BaseException as error:  # an app without lifespan support raises here
            if self.supported:
                error_log.error("error in the application's lifespan", exc_info=error)
            elif not self._failed:  # else the failure it reported, logged in startup()
                server_log.debug("the lifespan scope raised", exc_info=error)
        finally:
            self._answer(None)

    def _answer(self, reply: Message | None) -> None:
        if self._reply is not None and not self._reply.done():
            self._reply.set_result(reply)

    async def _receive(self) -> Message:
        self._received += 1
        if self._received == 1:
            return {"type": "lifespan.startup"}
        assert self._shutting_down is not None
        await self._shutting_down
        return {"type": "lifespan.shutdown"}

    async def _send(self, message: Message) -> None:
        kind = message.get("type")
        if kind not in (
            "lifespan.startup.complete",
            "lifespan.startup.failed",
            "lifespan.shutdown.complete",
            "lifespan.shutdown.failed",
        ):
            raise ConfigError(f"unexpected ASGI message {kind!r} in the lifespan scope")
        self._failed = self._failed or kind == "lifespan.startup.failed"
        self._answer(message)
