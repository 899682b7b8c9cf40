"""``EventHub``: events a program publishes from any thread, fanned out to open streams.

Each stream reads a :class:`~httpkit.web.events.Subscription` of the hub.  The hub keeps
the last events that have an ``id``, so that a client reconnecting with
``Last-Event-ID`` (a browser's ``EventSource`` does so by itself) gets those it missed.
"""

from __future__ import annotations

import itertools
import threading
from collections import deque
from typing import TYPE_CHECKING

from httpkit.web.events import Event, Subscription
from httpkit.web.sse import DEFAULT_HEARTBEAT, EventStream

if TYPE_CHECKING:
    from httpkit.web.request import Request

__all__ = ["EventHub"]


class EventHub:
    """Events published from any thread, delivered to every open stream.

    :param history: how many recent events (those with an ``id``) are kept for clients
        that reconnect with ``Last-Event-ID``.
    :param max_queued: events a stream may fall behind by; past it that stream ends,
        and its client reconnects and resumes from the history.
    """

    def __init__(self, *, history: int = 100, max_queued: int = 1000) -> None:
        if history < 0 or max_queued < 1:
            raise ValueError("history must be >= 0 and max_queued >= 1")
        if history > max_queued:
            # A reconnection replaying the history would fall behind at once.
            raise ValueError(f"history ({history}) cannot be more than max_queued ({max_queued})")
        self._lock = threading.Lock()
        self._history: deque[tuple[str, bytes]] = deque(maxlen=history)
        self._subscribers: set[Subscription] = set()
        self._ids = itertools.count(1)
        self.max_queued = max_queued

    def publish(
        self,
        data: str,
        *,
        event: str | None = None,
        id: str | None = None,
        retry: int | None = None,
    ) -> Event:
        """Send an event to every open stream; without an ``id`` one is numbered."""
        with self._lock:
            made = Event(data, event, str(next(self._ids)) if id is None else id, retry)
            encoded = made.encode()
            if made.id is not None:
                self._history.append((made.id, encoded))
            # Under the lock, so that every stream gets the events in the same order;
            # put() never blocks (a wake only schedules the stream's next pull).
            for subscriber in self._subscribers:
                subscriber.put(encoded)
        return made

    def stream(
        self,
        request: Request,
        *,
        heartbeat: float = DEFAULT_HEARTBEAT,
        retry: int | None = None,
    ) -> EventStream:
        """A response streaming this hub's events from now on, after those the client
        missed when it reconnects (its ``Last-Event-ID``)."""
        subscription = self.subscribe(request.last_event_id)
        return EventStream(subscription, heartbeat=heartbeat, retry=retry)

    def end_streams(self) -> None:
        """End every open stream (each response finishes; a browser's ``EventSource``
        reconnects after its retry delay and resumes from ``Last-Event-ID``)."""
        with self._lock:
            subscribers = list(self._subscribers)
        for subscriber in subscribers:
            subscriber.end()

    @property
    def streams(self) -> int:
        """How many streams are open on this hub."""
        with self._lock:
            return len(self._subscribers)

    def subscribe(self, last_event_id: str | None = None) -> Subscription:
        """A new subscription; with ``last_event_id``, the kept events after that one
        come first (all of them if it is no longer kept, or unknown)."""
        with self._lock:
            subscription = Subscription(self.max_queued, self._unsubscribe)
            if last_event_id is not None:
                kept = [item for _, item in self._after(last_event_id)]
                for encoded in kept:
                    subscription.put(encoded)
            self._subscribers.add(subscription)
        return subscription

    def _after(self, last_event_id: str) -> list[tuple[str, bytes]]:
        history = list(self._history)
        for position, (event_id, _) in enumerate(history):
            if event_id == last_event_id:
                return history[position + 1 :]
        return history

    def _unsubscribe(self, subscription: Subscription) -> None:
        with self._lock:
            self._subscribers.discard(subscription)
