"""Server-sent events: one event's wire form, and the queue each open stream reads.

The wire format is the HTML standard's ``text/event-stream`` (WHATWG HTML 9.2.5):
``event:``, ``id:``, ``retry:`` and one ``data:`` line per line of data, then a blank
line.  A reader splits lines at CR, LF and CRLF alike, so the data is split at all
three, and an ``id`` or ``event`` holding one of them (which would inject fields) is
refused, as is an ``id`` with NUL (which readers ignore).

A :class:`Subscription` is one stream's queue (filled by an
:class:`~httpkit.web.hub.EventHub`, from any thread).  Reading it never blocks: it tells
whoever waits for it when it has something, so the server's event loop never stalls.
"""

from __future__ import annotations

import re
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Event", "Subscription", "comment"]

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_FIELD_BREAKS = ("\r", "\n")

Wake = Callable[[], None]


@dataclass(frozen=True)
class Event:
    """One server-sent event.  ``data`` may hold several lines; ``id`` becomes the
    browser's ``lastEventId`` (sent back as ``Last-Event-ID`` on reconnection);
    ``event`` is the type a page listens for (``message`` when None); ``retry`` is the
    reconnection delay in milliseconds."""

    data: str = ""
    event: str | None = None
    id: str | None = None
    retry: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.data, str):
            raise TypeError(f"event data must be a str, not {type(self.data).__name__}")
        for name in ("event", "id"):
            value = getattr(self, name)
            if value is None:
                continue
            if not isinstance(value, str):
                raise TypeError(f"an event's {name} must be a str, not {type(value).__name__}")
            if any(mark in value for mark in _FIELD_BREAKS):
                raise ValueError(f"an event's {name} cannot hold CR or LF: {value!r}")
        if self.id is not None and "\0" in self.id:
            raise ValueError(f"an event's id cannot hold NUL (readers ignore it): {self.id!r}")
        if self.retry is not None and (
            type(self.retry) is not int or self.retry < 0  # bool is no delay
        ):
            raise ValueError(f"retry must be milliseconds (an int >= 0), not {self.retry!r}")

    def encode(self) -> bytes:
        """The event on the wire, UTF-8, ending with its blank line."""
        lines = []
        if self.event is not None:
            lines.append(f"event: {self.event}\n")
        if self.id is not None:
            lines.append(f"id: {self.id}\n")
        if self.retry is not None:
            lines.append(f"retry: {self.retry}\n")
        lines.extend(f"data: {line}\n" for line in _LINE_BREAK.split(self.data))
        lines.append("\n")
        return "".join(lines).encode()


def comment(text: str = "") -> bytes:
    """A comment line (readers ignore it): what keeps an idle stream's connection warm."""
    return "".join(f":{' ' if line else ''}{line}\n" for line in _LINE_BREAK.split(text)).encode()


class Subscription:
    """One stream's queue of encoded events; never blocks unless asked to wait."""

    def __init__(self, max_queued: int, on_close: Callable[[Subscription], None]) -> None:
        self._on_close = on_close
        self._cond = threading.Condition(threading.Lock())
        self._queue: deque[bytes] = deque()
        self._max_queued = max_queued
        self._wake: Wake | None = None
        self.ended = False  # closed, or fell too far behind: nothing more comes

    def put(self, encoded: bytes) -> None:
        """Any thread: queue one event and wake the stream that waits for it."""
        with self._cond:
            if self.ended:
                return
            if len(self._queue) >= self._max_queued:
                self.ended = True  # the client resumes from the hub's history
            else:
                self._queue.append(encoded)
            wake, self._wake = self._wake, None
            self._cond.notify_all()
        if wake is not None:
            wake()

    def take(self) -> list[bytes]:
        """Every queued event, at once (an empty list if none)."""
        with self._cond:
            taken = list(self._queue)
            self._queue.clear()
            return taken

    def when_ready(self, wake: Wake) -> None:
        """Call ``wake()`` (on the publishing thread) when an event is queued; at once if
        one already is.  Only the latest ``wake`` is kept."""
        with self._cond:
            ready = bool(self._queue) or self.ended
            self._wake = None if ready else wake
        if ready:
            wake()

    def wait(self, timeout: float) -> None:
        """Block until an event is queued or ``timeout`` seconds passed (for servers that
        cannot wait for a body themselves)."""
        with self._cond:
            if not self._queue and not self.ended:
                self._cond.wait(timeout)

    def end(self) -> None:
        """Any thread: no more events; the stream sends what is queued, then ends."""
        with self._cond:
            self.ended = True
            wake, self._wake = self._wake, None
            self._cond.notify_all()
        if wake is not None:
            wake()

    def close(self) -> None:
        with self._cond:
            self.ended = True
            self._wake = None
            self._queue.clear()
        self._on_close(self)
