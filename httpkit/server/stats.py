"""Server statistics: counted where each fact happens, summed only when asked.

Counting costs next to nothing on the hot path: a connection adds to its own plain
integers (requests answered, bytes in and out) on the loop thread; the server folds
them into its :class:`Tally` when the connection closes, and the worker pool already
keeps the count of its outstanding jobs.  :meth:`httpkit.server.Server.stats` adds the
open connections' figures to the tally and returns a :class:`Stats` snapshot.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["Stats", "Tally"]


@dataclass(slots=True, eq=False)
class Tally:
    """What the server's closed connections did, and the responses the server made
    itself.  Written on the loop thread only."""

    connections: int = 0  # accepted since the start
    requests: int = 0  # answered on connections now closed
    bytes_in: int = 0
    bytes_out: int = 0
    own_responses: dict[int, int] = field(default_factory=dict)  # status -> count

    def answered(self, status: int) -> None:
        """The server answered a request itself (400, 408, 413, 431, 500, 503...)."""
        self.own_responses[status] = self.own_responses.get(status, 0) + 1


@dataclass(frozen=True)
class Stats:
    """One server's figures at one moment (or several servers' added up).

    The byte counts are HTTP bytes: decrypted ones under TLS.  ``requests_total``
    counts every response, the server's own (``responses_by_server``) included.
    """

    connections: int  # open now (accepted, also those still in their TLS handshake)
    connections_total: int  # accepted since the start
    threads: int  # worker threads (0: inline on the event loop)
    threads_busy: int  # running a request now
    requests_pending: int  # waiting for a free thread
    requests_total: int
    responses_by_server: Mapping[int, int]  # status -> responses the server made itself
    bytes_in: int
    bytes_out: int
    # handlers running now: busy threads, ASGI tasks, 0 or 1 inline.  Last, with a
    # default: a worker of the previous version publishes figures without it.
    requests_running: int = 0

    def as_dict(self) -> dict[str, Any]:
        figures = asdict(self)
        figures["responses_by_server"] = dict(self.responses_by_server)
        return figures

    @classmethod
    def from_dict(cls, figures: Mapping[str, Any]) -> Stats:
        values = dict(figures)
        values["responses_by_server"] = {
            int(status): count for status, count in values["responses_by_server"].items()
        }
        return cls(**values)

    def __add__(self, other: Stats) -> Stats:
        """Both servers' figures together (worker processes of one service)."""
        statuses = {**self.responses_by_server}
        for status, count in other.responses_by_server.items():
            statuses[status] = statuses.get(status, 0) + count
        return Stats(
            connections=self.connections + other.connections,
            connections_total=self.connections_total + other.connections_total,
            threads=self.threads + other.threads,
            threads_busy=self.threads_busy + other.threads_busy,
            requests_pending=self.requests_pending + other.requests_pending,
            requests_total=self.requests_total + other.requests_total,
            responses_by_server=statuses,
            bytes_in=self.bytes_in + other.bytes_in,
            bytes_out=self.bytes_out + other.bytes_out,
            requests_running=self.requests_running + other.requests_running,
        )

    def stopped(self) -> Stats:
        """The figures of a server that stopped: its counters, nothing open or busy."""
        return Stats(
            connections=0,
            connections_total=self.connections_total,
            threads=0,
            threads_busy=0,
            requests_pending=0,
            requests_total=self.requests_total,
            responses_by_server=self.responses_by_server,
            bytes_in=self.bytes_in,
            bytes_out=self.bytes_out,
        )
