"""The phases of one connection and the deadline each one runs (h11-style table).

A connection moves through these phases, and only along :data:`TRANSITIONS`; each phase
names the deadline that runs while in it, so that no phase can last forever on the
client's account::

    IDLE ──first byte──▶ HEAD ──head parsed──▶ BODY ──body read──▶ RESPONDING
      ▲                    │                     │                    │
      │                    └──────────┬──────────┘                    ▼
      └──────── next request ─────────┼───────── FLUSHING ◀── response written
                                      ▼             │
                                   LINGER ──▶ CLOSING ──▶ CLOSED ◀── (any phase)
                                                 ▲
                                  (any phase) ───┘  the server closed its side

    RESPONDING ──101 Switching Protocols──▶ UPGRADED ──▶ CLOSED

RESPONDING is the application's time: the connection sets no deadline of its own then
(a WSGI application cannot be interrupted), but a client that stops reading the
response is cut by the send timeout in every phase.

CLOSING is the transport's time once the server has closed the connection: writing out
what is buffered and, over TLS, waiting for the client's answer to the close_notify, which
some clients never send.  Its linger deadline counts once nothing is left to write; it is
not a request in flight, and a stop does not wait for it.
"""

from __future__ import annotations

import enum

__all__ = ["DEADLINE_OF", "TRANSITIONS", "Deadline", "Phase", "TransitionError"]


class Phase(enum.Enum):
    # Filled in below from the tables: the connection reads these plain ints on every
    # request, as hashing an Enum member (a Python-level __hash__) costs several times more.
    bit: int  # this phase's bit in ``allowed``
    index: int  # position in a per-phase list (the connection's timeouts)
    allowed: int  # the bits of the phases this one may move to

    IDLE = "waiting for a request"  # no byte of the next request yet
    HEAD = "reading a request head"
    BODY = "reading a request body"  # the handler may already run (thread mode)
    RESPONDING = "running the handler"  # the body is read (or abandoned); response going
    FLUSHING = "waiting for the client to read the response"  # before the next request
    LINGER = "discarding an unread body before closing"  # RFC 9112 9.6
    UPGRADED = "carrying another protocol after a 101"  # RFC 9110 7.8 (WebSocket)
    CLOSING = "closed by the server, its transport not yet"  # flushing; TLS's close_notify
    CLOSED = "closed"


class Deadline(enum.Enum):
    """Which setting bounds the current phase."""

    KEEPALIVE = "keepalive_timeout"
    HEADER = "header_timeout"
    BODY = "body_timeout"
    SEND = "send_timeout"
    LINGER = "linger_timeout"
    NONE = ""  # the application's time, or closed


DEADLINE_OF = {
    Phase.IDLE: Deadline.KEEPALIVE,
    Phase.HEAD: Deadline.HEADER,
    Phase.BODY: Deadline.BODY,
    Phase.RESPONDING: Deadline.NONE,
    Phase.FLUSHING: Deadline.SEND,
    Phase.LINGER: Deadline.LINGER,
    Phase.UPGRADED: Deadline.NONE,  # the new protocol's own (its pings); send_timeout
    Phase.CLOSING: Deadline.LINGER,  # once the buffer is written; send_timeout until then
    Phase.CLOSED: Deadline.NONE,
}

_NEXT_REQUEST = frozenset({Phase.IDLE, Phase.HEAD, Phase.BODY, Phase.RESPONDING})
_ENDING = frozenset({Phase.LINGER, Phase.CLOSING, Phase.CLOSED})
TRANSITIONS: dict[Phase, frozenset[Phase]] = {
    # A whole request can arrive in one read: IDLE may skip HEAD (and BODY).
    Phase.IDLE: frozenset({Phase.HEAD, Phase.BODY, Phase.RESPONDING}) | _ENDING,
    Phase.HEAD: frozenset({Phase.BODY, Phase.RESPONDING}) | _ENDING,
    Phase.BODY: frozenset({Phase.RESPONDING}) | _ENDING,
    # After a response: the next (pipelined) request, or wait for the client to read.
    Phase.RESPONDING: _NEXT_REQUEST | {Phase.FLUSHING, Phase.UPGRADED} | _ENDING,
    Phase.FLUSHING: _NEXT_REQUEST | _ENDING,
    Phase.LINGER: frozenset({Phase.CLOSING, Phase.CLOSED}),
    Phase.UPGRADED: frozenset({Phase.CLOSING, Phase.CLOSED}),
    Phase.CLOSING: frozenset({Phase.CLOSED}),
    Phase.CLOSED: frozenset({Phase.CLOSED}),
}


class TransitionError(RuntimeError):
    """A move the table does not allow: a bug in the server, never the client's doing."""


for _index, _phase in enumerate(Phase):
    _phase.bit = 1 << _index
    _phase.index = _index
for _phase, _targets in TRANSITIONS.items():
    _phase.allowed = sum(target.bit for target in _targets)
