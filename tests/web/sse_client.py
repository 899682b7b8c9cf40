"""A small client-side reader of text/event-stream, as the HTML standard parses it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx


@dataclass
class Received:
    """One dispatched event, or a comment (``comment`` set, the rest empty)."""

    data: str = ""
    event: str = "message"
    id: str | None = None
    retry: int | None = None
    comment: str | None = None
    fields: list[str] = field(default_factory=list)


def read_events(response: httpx.Response) -> Iterator[Received]:
    """Events and comments as they arrive (WHATWG HTML 9.2.6, simplified: no BOM)."""
    data: list[str] = []
    current = Received()
    for line in response.iter_lines():
        if not line:
            if data or current.retry is not None:
                current.data = "\n".join(data)
                yield current
            data, current = [], Received()
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if not name:
            yield Received(comment=value)
            continue
        current.fields.append(name)
        if name == "data":
            data.append(value)
        elif name == "event":
            current.event = value
        elif name == "id":
            current.id = value
        elif name == "retry":
            current.retry = int(value)


def next_event(events: Iterator[Received]) -> Received:
    """The next dispatched event, skipping comments and blocks without data (retry)."""
    for received in events:
        if "data" in received.fields:
            return received
    raise AssertionError("the stream ended")
