"""The events the HTTP/1.1 parser gives back, one per call to ``next_event``.

They are small slotted dataclasses: a request costs one :class:`Request`, one
:class:`Data` per body piece and one :class:`EndOfMessage`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

__all__ = [
    "CLOSED",
    "NEED_DATA",
    "Data",
    "EndOfMessage",
    "Event",
    "Request",
    "Sentinel",
    "split_target",
]


@dataclass(slots=True)
class Request:
    """A parsed request head.

    ``method`` and ``target`` are as sent (``target`` decoded as latin-1, so every byte
    maps to one character); header names are lower-cased, values have surrounding
    SP/HTAB removed, and the list keeps the order and repetitions of the wire.
    """

    method: str
    target: str
    http_version: str  # "1.1" or "1.0"
    headers: list[tuple[str, str]]
    keep_alive: bool  # the connection may be reused after this request (never after CONNECT)
    expect_continue: bool  # an HTTP/1.1 client waits for "100 Continue" before the body
    content_length: int | None  # None when chunked (or no body at all: then 0)
    chunked: bool

    def header(self, name: str) -> str | None:
        """The value of the lower-case header ``name``; repeated fields are joined by ", "."""
        values = [value for key, value in self.headers if key == name]
        return ", ".join(values) if values else None


@dataclass(slots=True)
class Data:
    """A piece of the request body, already de-chunked."""

    data: bytes


@dataclass(slots=True)
class EndOfMessage:
    """The request body is complete; ``trailers`` holds chunked trailer fields, if any."""

    trailers: list[tuple[str, str]] = field(default_factory=list)


class Sentinel(enum.Enum):
    """What ``next_event`` returns when it has no event to give."""

    NEED_DATA = "need data"  # feed more bytes with receive_data()
    CLOSED = "closed"  # no further request will be read on this connection


NEED_DATA = Sentinel.NEED_DATA
CLOSED = Sentinel.CLOSED

Event = Request | Data | EndOfMessage | Sentinel


def split_target(target: str) -> tuple[str, str]:
    """(path, query) of a request target (RFC 9112 3.2), the path still percent-encoded."""
    path, _, query = target.partition("?")
    if not path.startswith("/"):
        if path == "*":  # asterisk-form, OPTIONS only (RFC 9112 3.2.4)
            return "", query
        # absolute-form (RFC 9112 3.2.2): drop scheme and authority, keep the path.
        scheme_end = path.find("://")
        slash = path.find("/", scheme_end + 3) if scheme_end >= 0 else -1
        path = path[slash:] if slash >= 0 else "/"
    return path, query
