"""The bound on long-lived responses (event streams) open at once.

A server-sent event stream stays open as long as its page does.  On worker threads it
holds one for all that time, so the streams must leave threads for ordinary requests;
inline (``--threads 0``) a waiting stream costs no thread, only its connection.  A
response says it is such a stream by taking a slot (``open_stream()`` of the handler
contract); past the bound it is refused, and answers 503.
"""

from __future__ import annotations

import threading

from httpkit.config import Settings

__all__ = ["StreamSlots", "stream_limit"]


def stream_limit(settings: Settings) -> int:
    """``max_streams``, or its default: half the worker threads (so that the other half
    keeps serving ordinary requests) but at least one (``--threads 1``, the SQLite
    configuration, would otherwise refuse every stream), or ``max_connections`` inline."""
    if settings.max_streams is not None:
        return settings.max_streams
    if settings.threads > 0:
        return max(1, settings.threads // 2)
    return settings.max_connections


class StreamSlots:
    """A count of open streams under one lock (taken on any thread, given back on any)."""

    __slots__ = ("_lock", "limit", "open")

    def __init__(self, limit: int) -> None:
        self._lock = threading.Lock()
        self.limit = limit
        self.open = 0

    def take(self) -> bool:
        """One more stream, if the bound allows it."""
        with self._lock:
            if self.open >= self.limit:
                return False
            self.open += 1
            return True

    def give_back(self) -> None:
        with self._lock:
            self.open -= 1
