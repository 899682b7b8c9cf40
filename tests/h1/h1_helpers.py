"""Feeding bytes to a ServerConnection and collecting what comes out (shared by tests/h1)."""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from httpkit.errors import ProtocolError
from httpkit.h1 import (
    CLOSED,
    NEED_DATA,
    Data,
    EndOfMessage,
    Event,
    Limits,
    Request,
    ServerConnection,
)

DEFAULT_LIMITS = Limits()
# No test stream yields more events than this; a parser that loops forever fails instead.
MAX_EVENTS = 10_000


def drain(conn: ServerConnection, events: list[Event]) -> None:
    """Pull events until the connection needs data or is closed."""
    for _ in range(MAX_EVENTS):
        event = conn.next_event()
        if event is NEED_DATA:
            return
        events.append(event)
        if event is CLOSED:
            return
    raise AssertionError("next_event() never asked for more data")


def feed(
    pieces: bytes | Iterable[bytes], limits: Limits = DEFAULT_LIMITS, *, eof: bool = False
) -> list[Event]:
    """Events from feeding ``pieces`` one by one (then EOF when ``eof``)."""
    conn = ServerConnection(limits)
    events: list[Event] = []
    for piece in [pieces] if isinstance(pieces, bytes) else pieces:
        conn.receive_data(piece)
        drain(conn, events)
    if eof:
        conn.receive_data(b"")
        drain(conn, events)
    return events


def request_of(data: bytes, limits: Limits = DEFAULT_LIMITS) -> Request:
    """The one Request that ``data`` parses to."""
    events = feed(data, limits)
    assert events, "no event"
    request = events[0]
    assert isinstance(request, Request), request
    return request


def error_of(data: bytes | Iterable[bytes], limits: Limits = DEFAULT_LIMITS) -> ProtocolError:
    """The ProtocolError that ``data`` (followed by EOF) must raise."""
    with pytest.raises(ProtocolError) as info:
        feed(data, limits, eof=True)
    return info.value


def status_of(data: bytes | Iterable[bytes], limits: Limits = DEFAULT_LIMITS) -> int:
    return error_of(data, limits).status


def messages(events: list[Event]) -> list[tuple[Request, bytes, EndOfMessage]]:
    """Group events into (request, whole body, end) triples; checks their order."""
    grouped: list[tuple[Request, bytes, EndOfMessage]] = []
    request: Request | None = None
    body: list[bytes] = []
    for event in events:
        if isinstance(event, Request):
            assert request is None, "Request before the previous EndOfMessage"
            request, body = event, []
        elif isinstance(event, Data):
            assert request is not None and event.data, "Data outside a message, or empty"
            body.append(event.data)
        elif isinstance(event, EndOfMessage):
            assert request is not None, "EndOfMessage without a Request"
            grouped.append((request, b"".join(body), event))
            request = None
        else:
            assert event is CLOSED
    return grouped


def head(first_line: str, *fields: str) -> bytes:
    """A request head from its request line and field lines."""
    return "".join(f"{line}\r\n" for line in (first_line, *fields)).encode("latin-1") + b"\r\n"


Outcome = list[tuple[str, str, bytes] | int | str]


def outcome(pieces: bytes | Iterable[bytes], limits: Limits = DEFAULT_LIMITS) -> Outcome:
    """What a peer would see: (method, target, body) per message, then how it ended.

    The stream ends with EOF; the last item is ``"closed"`` (a clean end) or the status
    of the ProtocolError that refused the rest.
    """
    conn = ServerConnection(limits)
    events: list[Event] = []
    result: Outcome = []
    try:
        for piece in [pieces] if isinstance(pieces, bytes) else pieces:
            conn.receive_data(piece)
            drain(conn, events)
        conn.receive_data(b"")
        drain(conn, events)
    except ProtocolError as error:
        result.append(error.status)
    else:
        result.append("closed")
    return [*((r.method, r.target, body) for r, body, _ in messages(events)), *result]
