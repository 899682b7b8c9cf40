"""What one connection sees of its server: a small context, not the whole Server."""

from __future__ import annotations

import asyncio
import math
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
from httpkit.server.phase import DEADLINE_OF, Deadline, Phase
from httpkit.server.stats import Tally

__all__ = ["ConnectionContext", "limits_of", "timeouts_by_phase"]


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
    tally: Tally = field(default_factory=Tally)  # the server's statistics (loop thread)
    # The seconds each phase's deadline gives, indexed by Phase.index (from settings).
    phase_timeouts: list[float] = field(init=False)

    def __post_init__(self) -> None:
        self.phase_timeouts = timeouts_by_phase(self.settings)

    def now(self) -> float:
        return self.clock() if self.clock is not None else self.loop.time()


def timeouts_by_phase(settings: Settings) -> list[float]:
    """The seconds each phase's deadline gives, indexed by ``Phase.index``."""
    seconds = {
        Deadline.KEEPALIVE: settings.keepalive_timeout,
        Deadline.HEADER: settings.header_timeout,
        Deadline.BODY: settings.body_timeout,
        Deadline.SEND: settings.send_timeout,
        Deadline.LINGER: settings.linger_timeout,
        Deadline.NONE: math.inf,
    }
    timeouts = [math.inf] * len(Phase)
    for phase in Phase:
        timeouts[phase.index] = seconds[DEADLINE_OF[phase]]
    return timeouts


def limits_of(settings: Settings) -> Limits:
    """The parser's limits from the settings."""
    return Limits(
        max_request_line=settings.max_request_line,
        max_header_bytes=settings.max_header_bytes,
        max_header_count=settings.max_header_count,
        max_body=settings.max_body,
        max_chunk_extension=settings.max_chunk_extension,
    )
