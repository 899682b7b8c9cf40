"""Server-sent events: what an open stream costs, and how fast an event fans out.

httpkit serves ``bench/apps/sse.py`` in a fresh process, inline (``--threads 0``) and
on worker threads; this client opens N streams on ``/events`` (raw sockets), reads the
server's resident memory before and after (the cost of an open, waiting stream), then
publishes M events with ``POST /publish`` and times each from the publish until every
stream has it (the fan-out latency).

    python bench/events.py                 # 1000 streams inline, 64 with threads; 20 events
    python bench/events.py --quick         # 50 streams, 5 events: a smoke run
"""

from __future__ import annotations

import argparse
import selectors
import socket
import statistics
import sys
import time
from dataclasses import dataclass

from harness.processes import HOST, ServerProcess, free_port
from harness.servers import server_env

REQUEST = b"GET /events HTTP/1.1\r\nHost: bench\r\n\r\n"
WAIT = 30.0


@dataclass
class Result:
    mode: str
    streams: int
    kib_per_stream: float
    fanout_ms: list[float]


def open_streams(port: int, count: int) -> list[socket.socket]:
    """``count`` streams whose head (and first comment) arrived."""
    streams = []
    for _ in range(count):
        sock = socket.create_connection((HOST, port), WAIT)
        sock.sendall(REQUEST)
        streams.append(sock)
    for sock in streams:
        head = b""
        while b"stream opened" not in head:
            data = sock.recv(65536)
            if not data:
                raise RuntimeError(f"a stream closed at once: {head[:200]!r}")
            head += data
        if not head.startswith(b"HTTP/1.1 200 "):
            raise RuntimeError(f"a stream was refused: {head[:200]!r}")
    return streams


def publish(port: int, text: str) -> None:
    body = text.encode()
    with socket.create_connection((HOST, port), WAIT) as sock:
        sock.sendall(
            b"POST /publish HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n"
            b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
        )
        while sock.recv(65536):
            pass


def fan_out(port: int, streams: list[socket.socket], number: int) -> float:
    """Milliseconds from publishing event ``number`` until every stream has it."""
    marker = f"event-{number}".encode()
    selector = selectors.DefaultSelector()
    for sock in streams:
        selector.register(sock, selectors.EVENT_READ, bytearray())
    started = time.perf_counter()
    publish(port, marker.decode())
    waiting = len(streams)
    deadline = time.monotonic() + WAIT
    while waiting:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{waiting} streams never got {marker!r}")
        for key, _ in selector.select(1.0):
            received: bytearray = key.data
            received += key.fileobj.recv(65536)  # type: ignore[union-attr]
            if marker in received:
                selector.unregister(key.fileobj)
                waiting -= 1
    selector.close()
    return (time.perf_counter() - started) * 1000


def measure(mode: str, threads: int, count: int, events: int) -> Result:
    port = free_port()
    command = [
        sys.executable, "-m", "httpkit", "serve", "sse:app", "--port", str(port),
        "--threads", str(threads), "--max-connections", str(count + 64),
        "--max-streams", str(count), "--no-access-log",
    ]  # fmt: skip
    with ServerProcess(command, port, env=server_env()) as server:
        publish(port, "warm-up")
        before = server.memory_kib()
        streams = open_streams(port, count)
        try:
            time.sleep(0.5)  # let the server settle
            after = server.memory_kib()
            fanout = [fan_out(port, streams, number) for number in range(events)]
        finally:
            for sock in streams:
                sock.close()
    return Result(mode, count, (after - before) / count, fanout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: few streams")
    parser.add_argument("--streams", type=int, help="streams inline (default 1000)")
    parser.add_argument("--events", type=int, help="events to time (default 20)")
    options = parser.parse_args()
    inline_count = options.streams or (50 if options.quick else 1000)
    events = options.events or (5 if options.quick else 20)
    threaded_count = min(inline_count, 64)  # each holds a thread: fewer of them
    results = [
        measure("inline (--threads 0)", 0, inline_count, events),
        measure(f"threads ({threaded_count * 2})", threaded_count * 2, threaded_count, events),
    ]
    print(f"{'mode':24} {'streams':>8} {'KiB/stream':>11} {'fan-out ms p50':>15} {'max':>8}")
    for result in results:
        print(
            f"{result.mode:24} {result.streams:>8} {result.kib_per_stream:>11.1f} "
            f"{statistics.median(result.fanout_ms):>15.1f} {max(result.fanout_ms):>8.1f}"
        )


if __name__ == "__main__":
    main()
