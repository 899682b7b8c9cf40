"""``EventStream``: a handler's ``text/event-stream`` response (server-sent events).

The stream reads events from a source -- an :class:`~httpkit.web.events.Subscription`
of an :class:`~httpkit.web.events.EventHub`, or any iterable of events -- and sends a
heartbeat comment whenever it has been quiet for ``heartbeat`` seconds, so proxies and
the browser keep an idle connection, and a client that went away is noticed.

How it waits for the next event depends on the server:

* httpkit's server offers ``environ["httpkit.stream"]`` (see :class:`StreamControl`):
  the stream takes one of the server's stream slots (``503`` past the bound), and when
  it has nothing to send it asks the server to wait -- without blocking the event loop
  inline (``--threads 0``), on its worker thread otherwise -- until the subscription
  has an event, the heartbeat is due, or the client left (then the source is closed at
  once);
* any other WSGI server: the stream blocks in the subscription's ``wait()``, and a
  client that left is noticed by the next write that fails (at the latest after one
  heartbeat).

An iterable source (a generator that blocks until its next event) waits by blocking: it
is fine on worker threads, but would stall every connection of a single-threaded
(inline) httpkit server, which therefore refuses it with a ``TypeError``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol

from httpkit.web.events import Event, Subscription, comment
from httpkit.wsgitypes import Environ, StartResponse

__all__ = ["DEFAULT_HEARTBEAT", "STREAM_ENVIRON_KEY", "EventStream", "StreamControl"]

DEFAULT_HEARTBEAT = 15.0  # seconds of quiet before a comment goes out
STREAM_ENVIRON_KEY = "httpkit.stream"
EVENT_STREAM_TYPE = "text/event-stream; charset=utf-8"
_OPENED = comment("stream opened")  # sends the head at once: the page's `open` event
_HEADERS = [
    ("Content-Type", EVENT_STREAM_TYPE),
    ("Cache-Control", "no-store"),
    ("X-Accel-Buffering", "no"),  # nginx: pass each event on at once
]

EventLike = Event | str | None


class StreamControl(Protocol):
    """What httpkit's server offers a long-lived response, as ``environ["httpkit.stream"]``."""

    def open_stream(self) -> bool:
        """Take a stream slot for this response; False at the server's bound (503)."""

    def pause_body(self, when_ready: Callable[[Callable[[], None]], None], timeout: float) -> None:
        """The body's next piece is ``b""``: instead of asking for another at once, wait
        until ``when_ready``'s ``wake`` is called (from any thread), ``timeout`` seconds
        pass, or the client leaves (then the body is closed)."""


class EventStream:
    """Server-sent events a handler returns (see the module documentation).

    :param source: an :class:`~httpkit.web.events.Subscription` (``hub.subscribe()``;
        :meth:`EventHub.stream <httpkit.web.EventHub.stream>` makes one from a request),
        or an iterable of :class:`~httpkit.web.events.Event`, ``str`` (the data of an
        event) or ``None`` (send a heartbeat now).
    :param heartbeat: seconds of quiet after which a comment line is sent.
    :param retry: the reconnection delay (milliseconds) to tell the browser, if any.
    """

    def __init__(
        self,
        source: Subscription | Iterable[EventLike],
        *,
        heartbeat: float = DEFAULT_HEARTBEAT,
        retry: int | None = None,
    ) -> None:
        if not isinstance(source, (Subscription, Iterable)) or isinstance(source, (str, bytes)):
            raise TypeError(
                f"EventStream needs a Subscription or an iterable of events, not {source!r}"
            )
        if not heartbeat > 0:
            raise ValueError(f"heartbeat must be a positive number of seconds, not {heartbeat!r}")
        self.source = source
        self.heartbeat = float(heartbeat)
        if retry is not None:
            Event(retry=retry)  # checks it
            # The field alone: with a data line the page would get an empty message.
            self.preamble = f"retry: {retry}\n\n".encode()
        else:
            self.preamble = _OPENED

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        control: StreamControl | None = environ.get(STREAM_ENVIRON_KEY)
        if environ["REQUEST_METHOD"] == "HEAD":
            self.close()
            start_response("200 OK", list(_HEADERS))
            return []
        blocking = not isinstance(self.source, Subscription)
        if control is not None and blocking and not environ.get("wsgi.multithread"):
            self.close()
            raise TypeError(
                "an EventStream over a generator would block the single-threaded "
                "server (--threads 0) while it waits: publish into an EventHub and "
                "return hub.stream(request), or run with worker threads"
            )
        # A slot either way: a generator holds its worker thread just the same.
        if control is not None and not control.open_stream():
            self.close()
            start_response(
                "503 Service Unavailable",
                [("Content-Type", "text/plain; charset=UTF-8"), ("Retry-After", "5")],
            )
            return [b"Too many event streams are open; try again later.\n"]
        start_response("200 OK", list(_HEADERS))
        if isinstance(self.source, Subscription):
            return _SubscriptionBody(self.source, self.heartbeat, self.preamble, control)
        return _IterableBody(iter(self.source), self.preamble)  # blocks by itself

    def close(self) -> None:
        close = getattr(self.source, "close", None)
        if close is not None:
            close()


class _SubscriptionBody:
    """The stream's bytes from a subscription; b"" while the server waits for it."""

    __slots__ = ("_control", "_heartbeat", "_last_sent", "_preamble", "_subscription")

    def __init__(
        self,
        subscription: Subscription,
        heartbeat: float,
        preamble: bytes,
        control: StreamControl | None,
    ) -> None:
        self._subscription = subscription
        self._heartbeat = heartbeat
        self._preamble: bytes | None = preamble
        self._control = control
        self._last_sent = time.monotonic()

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        if self._preamble is not None:
            preamble, self._preamble = self._preamble, None
            return preamble
        subscription = self._subscription
        while True:
            events = subscription.take()
            if events:
                self._last_sent = time.monotonic()
                return b"".join(events)
            if subscription.ended:
                raise StopIteration
            quiet_left = self._last_sent + self._heartbeat - time.monotonic()
            if quiet_left <= 0:
                self._last_sent = time.monotonic()
                return comment()
            if self._control is not None:
                self._control.pause_body(subscription.when_ready, quiet_left)
                return b""
            subscription.wait(quiet_left)

    def close(self) -> None:
        self._subscription.close()


class _IterableBody:
    """The stream's bytes from an iterable of events (which blocks as it likes)."""

    __slots__ = ("_events", "_preamble")

    def __init__(self, events: Iterator[EventLike], preamble: bytes) -> None:
        self._events = events
        self._preamble: bytes | None = preamble

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        if self._preamble is not None:
            preamble, self._preamble = self._preamble, None
            return preamble
        return _encode(next(self._events))

    def close(self) -> None:
        close = getattr(self._events, "close", None)
        if close is not None:
            close()


def _encode(item: Any) -> bytes:
    if isinstance(item, Event):
        return item.encode()
    if isinstance(item, str):
        return Event(item).encode()
    if item is None:
        return comment()
    raise TypeError(f"an event stream yielded {type(item).__name__}; yield Event, str or None")
