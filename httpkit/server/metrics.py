"""The server's statistics as a Prometheus text endpoint (the ``metrics`` extra).

``metrics_bind`` starts a second, small server on its own listener that answers
``GET /metrics`` with :meth:`~httpkit.server.Server.stats` in Prometheus's text format
(or OpenMetrics, when the scraper asks for it), rendered by ``prometheus_client`` from
the figures of the moment: nothing is counted twice and the application's own
``prometheus_client`` registry is never touched.  Scrapes are not counted among the
application's requests.

Worker processes (``workers``, ``reload``) share the listener their supervisor bound,
and each publishes its figures to a directory the supervisor made
(:class:`StatsShare`), so that whichever worker answers a scrape gives the sum of all.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import tempfile
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from httpkit.config import Settings, parse_bind
from httpkit.errors import ConfigError
from httpkit.server.contract import Handler, HandlerExchange
from httpkit.server.stats import Stats

__all__ = ["StatsShare", "metrics_handler", "metrics_settings"]

PATH = "/metrics"
PUBLISH_PERIOD = 0.5  # seconds between a worker's publications of its figures

StatsSource = Callable[[], Stats]


def metrics_settings(settings: Settings) -> Settings:
    """The settings of the metrics listener's own server: inline, quiet."""
    host, port = parse_bind(settings.metrics_bind or "")
    return Settings(
        host=host,
        port=port,
        threads=0,
        server_header=settings.server_header,
        log_level=settings.log_level,
        loop=settings.loop,
        access_log=False,  # a scrape every few seconds would drown the application's lines
    )


def metrics_handler(source: StatsSource) -> Handler:
    """A handler answering ``GET /metrics`` with ``source()``'s figures."""
    from prometheus_client import CollectorRegistry  # noqa: PLC0415 (an optional extra)
    from prometheus_client.exposition import choose_encoder  # noqa: PLC0415

    registry = CollectorRegistry(auto_describe=False)
    registry.register(_StatsCollector(source))

    def answer(exchange: HandlerExchange) -> Iterable[bytes]:
        request = exchange.request
        if request.target.partition("?")[0] != PATH:
            return _plain(exchange, 404, "Not Found", b"metrics are at /metrics\n")
        if request.method not in ("GET", "HEAD"):
            return _plain(exchange, 405, "Method Not Allowed", b"GET only\n", "GET, HEAD")
        encoder, content_type = choose_encoder(request.header("accept") or "")
        body = encoder(registry)
        headers = [("Content-Type", content_type), ("Content-Length", str(len(body)))]
        exchange.start_response(200, "OK", headers)
        return [body]

    return answer


def _plain(
    exchange: HandlerExchange, status: int, reason: str, body: bytes, allow: str = ""
) -> list[bytes]:
    headers = [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))]
    if allow:
        headers.append(("Allow", allow))
    exchange.start_response(status, reason, headers)
    return [body]


class _StatsCollector:
    """A ``prometheus_client`` collector of one stats source, read at each scrape."""

    def __init__(self, source: StatsSource) -> None:
        self.source = source

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import (  # noqa: PLC0415 (an optional extra)
            CounterMetricFamily,
            GaugeMetricFamily,
        )

        stats = self.source()
        yield GaugeMetricFamily("httpkit_connections_open", "Open connections.", stats.connections)
        yield CounterMetricFamily(
            "httpkit_connections_accepted", "Connections accepted.", stats.connections_total
        )
        yield GaugeMetricFamily("httpkit_threads", "Worker threads.", stats.threads)
        yield GaugeMetricFamily(
            "httpkit_threads_busy", "Worker threads running a request.", stats.threads_busy
        )
        yield GaugeMetricFamily(
            "httpkit_requests_pending",
            "Requests waiting for a free worker thread.",
            stats.requests_pending,
        )
        yield GaugeMetricFamily(
            "httpkit_requests_running",
            "Requests whose handler runs now (on a thread, as an ASGI task, or inline).",
            stats.requests_running,
        )
        yield CounterMetricFamily(
            "httpkit_requests",
            "Requests answered, by the application or the server.",
            stats.requests_total,
        )
        own = CounterMetricFamily(
            "httpkit_server_responses",
            "Responses the server made itself (400, 408, 413, 431, 500, 503...), by status.",
            labels=["status"],
        )
        for status, count in sorted(stats.responses_by_server.items()):
            own.add_metric([str(status)], count)
        yield own
        yield CounterMetricFamily(
            "httpkit_received_bytes", "HTTP bytes received (decrypted under TLS).", stats.bytes_in
        )
        yield CounterMetricFamily(
            "httpkit_sent_bytes", "HTTP bytes sent (before encryption under TLS).", stats.bytes_out
        )


class StatsShare:
    """The figures of a supervisor's worker processes, one file each in a directory.

    A worker publishes its own every :data:`PUBLISH_PERIOD` and once more when it stops
    (so a worker replaced on SIGHUP or a reload keeps counting in the totals); a scrape
    adds the others' files to the answering worker's live figures.  A worker that died
    without stopping counts with its last figures, nothing open or busy.
    """

    def __init__(self, directory: str, sock: socket.socket) -> None:
        self.directory = directory
        self.sock = sock  # the metrics listener, bound by the supervisor

    @classmethod
    def create(cls, settings: Settings, bind: Callable[[str, int], socket.socket]) -> StatsShare:
        host, port = parse_bind(settings.metrics_bind or "")
        try:
            sock = bind(host, port)
        except ConfigError as error:
            raise ConfigError(f"metrics_bind: {error}") from None
        return cls(tempfile.mkdtemp(prefix="httpkit-stats-"), sock)

    def publish(self, stats: Stats) -> None:
        """This process's figures, replacing its previous ones atomically."""
        final = os.path.join(self.directory, f"{os.getpid()}.json")
        scratch = os.path.join(self.directory, f".{os.getpid()}.tmp")
        with open(scratch, "w", encoding="utf-8") as file:
            json.dump(stats.as_dict(), file)
        os.replace(scratch, final)

    def others(self) -> list[Stats]:
        """Every other worker's last published figures (a dead one's as stopped)."""
        found = []
        own = f"{os.getpid()}.json"
        for name in os.listdir(self.directory):
            if not name.endswith(".json") or name == own:
                continue
            try:
                with open(os.path.join(self.directory, name), encoding="utf-8") as file:
                    stats = Stats.from_dict(json.load(file))
            except (OSError, ValueError):
                continue  # removed meanwhile, or being replaced
            found.append(stats if _alive(int(name[:-5])) else stats.stopped())
        return found

    def close(self) -> None:
        """The supervisor stops: remove the directory and close the listener."""
        shutil.rmtree(self.directory, ignore_errors=True)
        self.sock.close()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process took the number: not ours, but alive
    return True
