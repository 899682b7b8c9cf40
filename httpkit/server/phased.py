"""A connection's phase and its deadline, and how the connection ends.

:class:`PhasedChannel` sits between the transport (:class:`~httpkit.server.channel.
TransportChannel`) and the request machine (:class:`~httpkit.server.protocol.
HTTPConnection`).  It owns the phase (moved only along the table of
:mod:`httpkit.server.phase`), the deadline each phase runs, what the server's sweep does
when one passes, and the end of a connection: lingering over an unread body before the
close (RFC 9112 9.6), then CLOSING until the transport is gone -- over TLS that waits for
a close_notify some clients never send, so it is bounded too.  What a byte or a request
means is the subclass's.

Timeouts are not timers: the server sweeps its connections a few times a second and
calls :meth:`PhasedChannel.check_deadline`, so a request costs no timer at all.
"""

from __future__ import annotations

import logging
import math

from httpkit.server.channel import TransportChannel
from httpkit.server.context import ConnectionContext
from httpkit.server.driver import answer_failure
from httpkit.server.phase import Phase, TransitionError

__all__ = ["PhasedChannel"]

error_log = logging.getLogger("httpkit.error")

# The phases as module globals: read on every request, and ``Phase.IDLE`` (a lookup on
# the Enum class) costs ten times a global's read.
_IDLE, _HEAD, _BODY = Phase.IDLE, Phase.HEAD, Phase.BODY
_FLUSHING, _LINGER = Phase.FLUSHING, Phase.LINGER
_CLOSING, _CLOSED = Phase.CLOSING, Phase.CLOSED
_NEVER = math.inf


class PhasedChannel(TransportChannel):
    """A transport with a phase, its deadline, and its ending (see the module docs)."""

    def __init__(self, context: ConnectionContext) -> None:
        super().__init__(context)
        self.settings = context.settings
        self.phase = _IDLE
        self.deadline = math.inf  # clock time at which the current phase's deadline ends
        self._closing_since = 0.0  # clock time of close(), once CLOSING
        self._timeouts = context.phase_timeouts
        self._now = context.clock if context.clock is not None else context.loop.time

    def _head_too_slow(self) -> None:
        """The HEAD phase's deadline passed (the subclass answers it)."""
        raise NotImplementedError

    # -- the phase and its deadline ----------------------------------------------------

    def _enter(self, phase: Phase) -> None:
        """Move to ``phase`` (only along the table) and start its deadline."""
        if not self.phase.allowed & phase.bit:
            raise TransitionError(f"{self.phase.name} -> {phase.name}")
        self.phase = phase
        # _restart_deadline's rule, repeated: this runs twice per request.
        seconds = self._timeouts[phase.index]
        if seconds == _NEVER or (phase is _BODY and self._reading_paused):
            self.deadline = _NEVER
        else:
            self.deadline = self._now() + seconds

    def _restart_deadline(self) -> None:
        phase = self.phase
        seconds = self._timeouts[phase.index]
        if seconds == _NEVER or (phase is _BODY and self._reading_paused):
            # The application's time, or the handler is slow to read (not the client
            # slow to send): no deadline, and no clock read.
            self.deadline = _NEVER
        else:
            self.deadline = self._now() + seconds

    def check_deadline(self, now: float) -> None:
        """Called by the server's sweep: act on a passed deadline."""
        try:
            if now >= self.deadline:
                self._deadline_passed()
            elif now - self.flow.paused_at >= self.settings.send_timeout:
                error_log.info("client stopped reading the response; connection cut")
                self.abort()
        except BaseException as error:
            self._internal_error(error)

    def _deadline_passed(self) -> None:
        self.deadline = math.inf
        phase = self.phase
        if phase is _HEAD:
            self._head_too_slow()
        elif phase in (_IDLE, _LINGER):
            self.close()
        elif phase is _BODY:
            error_log.info("request body stalled; connection cut")
            self.abort()
        elif phase is _FLUSHING:
            error_log.info("client stopped reading the response; connection cut")
            self.abort()
        elif phase is _CLOSING:
            self._closing_deadline_passed()

    # -- the end of the connection -----------------------------------------------------

    def _internal_error(self, error: BaseException) -> None:
        """A bug in the server (or an error nothing else caught): never let it escape."""
        error_log.critical("internal error on a connection", exc_info=error)
        exchange = self.exchange
        if exchange is not None and not exchange.head_sent and not self.closing:
            try:
                answer_failure(exchange, error)
                return
            except BaseException as again:
                error_log.critical("cannot answer the internal error", exc_info=again)
        self.abort()

    def _closing_deadline_passed(self) -> None:
        """The close has lasted ``linger_timeout``.  Over TLS the transport still waits for
        the client's close_notify, which some clients never send (asyncio and uvloop wait
        30 s): cut it, but only once the client has every byte, so that none of the
        response is lost.  While bytes are, the client has ``send_timeout`` to read them."""
        now = self._now()
        if not self.unsent():
            self.abort()
        elif now - self._closing_since >= self.settings.send_timeout:
            error_log.info("client stopped reading the response; connection cut")
            self.abort()
        else:
            wait = self.settings.linger_timeout
            self.deadline = min(now + wait, self._closing_since + self.settings.send_timeout)

    def close(self) -> None:
        """Close after the buffered bytes are written; CLOSING until the transport is
        gone (see _closing_deadline_passed)."""
        super().close()
        if self.phase is not _CLOSING and self.phase is not _CLOSED:
            self._closing_since = self._now()
            self._enter(_CLOSING)

    def _close_after_response(self, body_unread: bool) -> None:
        """Close; if the client may still be sending a body, linger first.

        Closing a socket with unread bytes makes the kernel send RST, which can destroy
        the response before the client reads it (RFC 9112 9.6).  So the server sends
        FIN, discards what still comes for up to the linger timeout, then closes.
        """
        transport = self.transport
        if self.phase is _LINGER or self.phase is _CLOSING or self.phase is _CLOSED:
            return
        if not body_unread or transport is None or not transport.can_write_eof():
            self.close()
            return
        self._enter(_LINGER)
        transport.write_eof()
        self._resume_reading()
