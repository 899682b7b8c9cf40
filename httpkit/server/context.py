"""What one connection sees of its server: a small context, not the whole Server."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from httpkit.config import Settings
from httpkit.h1 import Limits
from httpkit.server.accesslog import AccessLog
from httpkit.server.forwarded import ProxyTrust
from httpkit.server.headers import ServerFields
from httpkit.server.info import ConnectionInfo
from httpkit.server.modes import ExecutionMode

__all__ = ["ConnectionContext", "limits_of"]


@dataclass(slots=True, eq=False)
class ConnectionContext:
    """Shared by every connection of one server; the server alone changes it.

    Time is injected: ``clock`` is the loop's clock in production and a fake one in
    tests, which then run every deadline without sleeping.
    """

    settings: Settings
    mode: ExecutionMode
    loop: asyncio.AbstractEventLoop
    describe: Callable[[asyncio.BaseTransport], ConnectionInfo]  # peer, scheme, TLS subject
    opened: Callable[[Any], None]  # a connection is made / lost (for the server's set)
    closed: Callable[[Any], None]
    limits: Limits = field(default_factory=Limits)
    fields: ServerFields = field(default_factory=lambda: ServerFields("httpkit"))
    access_log: AccessLog | None = None
    proxy: ProxyTrust | None = None
    tls: bool = False
    clock: Callable[[], float] | None = None  # None: the loop's clock
    draining: bool = False  # set by the server when it stops

    def now(self) -> float:
        return self.clock() if self.clock is not None else self.loop.time()


def limits_of(settings: Settings) -> Limits:
    """The parser's limits from the settings."""
    return Limits(
        max_request_line=settings.max_request_line,
        max_header_bytes=settings.max_header_bytes,
        max_header_count=settings.max_header_count,
        max_body=settings.max_body,
        max_chunk_extension=settings.max_chunk_extension,
    )
