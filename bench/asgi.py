"""httpkit's ASGI edge beside uvicorn (httptools and h11) and hypercorn, in one run.

Every server runs on asyncio's own loop (the same loop for all) and serves the same
apps: the hello world of ``bench/apps/hello.py`` over 50 keep-alive connections (wrk),
then a 1 GiB request body and a 1 GiB response body streamed through
``bench/apps/stream.py`` (throughput, and the peak memory that shows a server buffering
what it should stream), then a WebSocket echo (``bench/apps/wsecho.py``): 10
connections each keep 50 small text messages in flight, and the echoes per second are
counted (the client writes pre-framed messages on raw sockets, so that it costs little).
httpkit's WSGI edge (``--threads 0``) runs the WSGI twins of the apps beside them, for
reference.  The servers take turns, each keeping its best round.

    python bench/asgi.py                       # full run
    python bench/asgi.py --quick               # a seconds-long smoke run
    python bench/asgi.py --only httpkit-asgi --only uvicorn-httptools --duration 5

Instructions per request, which the machine's load does not move, are in
``bench/callgrind.py``.  Servers that are not importable, and a missing wrk, are
skipped with a message; the script installs nothing (``bench/run`` does).
"""

from __future__ import annotations

import argparse
import os
import selectors
import shutil
import socket
import sys
import time
from typing import Any

from harness.loadtest import SCENARIOS, Target, load_cpus, measure_in_turns
from harness.processes import ServerProcess, free_port
from harness.servers import ASGI_SERVERS, ServerSpec, missing_modules, server_env
from streaming import MIB, TransferError, download, pinned, upload

DEFAULT_SERVERS = ("httpkit-asgi", "uvicorn-httptools", "uvicorn-h11", "hypercorn")
REFERENCE = "httpkit-t0-wsgi"
WS_CONNECTIONS = 10
WS_WINDOW = 50  # messages in flight per connection
WS_PAYLOAD = b"hello, websocket echo!"
WS_HANDSHAKE = (
    b"GET /echo HTTP/1.1\r\nHost: bench\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
)


def masked_text_frame(payload: bytes) -> bytes:
    """One client text frame (RFC 6455 5.2: a client masks; payload under 126 bytes)."""
    mask = os.urandom(4)
    body = bytes(byte ^ mask[index % 4] for index, byte in enumerate(payload))
    return bytes([0x81, 0x80 | len(payload)]) + mask + body


def open_websocket(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(WS_HANDSHAKE)
    head = b""
    while b"\r\n\r\n" not in head:
        piece = sock.recv(4096)
        if not piece:
            raise TransferError("closed during the WebSocket handshake")
        head += piece
    if not head.startswith(b"HTTP/1.1 101"):
        raise TransferError(f"handshake answered {head[:80]!r}")
    if head.split(b"\r\n\r\n", 1)[1]:
        raise TransferError("unexpected bytes after the handshake")
    sock.setblocking(False)
    return sock


def websocket_echo(port: int, seconds: float) -> float:
    """Echoes per second: each connection keeps WS_WINDOW messages in flight."""
    frame = masked_text_frame(WS_PAYLOAD)
    echo_size = 2 + len(WS_PAYLOAD)  # the server's frames are not masked
    window = frame * WS_WINDOW
    selector = selectors.DefaultSelector()
    pending: dict[Any, int] = {}
    for _ in range(WS_CONNECTIONS):
        opened = open_websocket(port)
        opened.sendall(window)
        pending[opened] = 0  # bytes of echoes received in the current window
        selector.register(opened, selectors.EVENT_READ)
    echoes = 0
    deadline = time.monotonic() + seconds
    started = time.monotonic()
    while time.monotonic() < deadline:
        for key, _ in selector.select(timeout=1.0):
            sock: Any = key.fileobj
            data = sock.recv(65536)
            if not data:
                raise TransferError("the server closed a WebSocket")
            pending[sock] += len(data)
            while pending[sock] >= echo_size * WS_WINDOW:
                pending[sock] -= echo_size * WS_WINDOW
                echoes += WS_WINDOW
                sock.sendall(window)
    elapsed = time.monotonic() - started
    for sock in pending:
        selector.unregister(sock)
        sock.close()
    return echoes / elapsed


def websocket_figures(names: list[str], seconds: float, rounds: int) -> dict[str, float]:
    results: dict[str, float] = {}
    for _ in range(rounds):
        for name in names:
            spec = ASGI_SERVERS[name]
            if not spec.asgi:
                continue
            port = free_port()
            command = spec.argv("wsecho:app", port)
            process = ServerProcess(command, port, cpus=spec.cpus, env=server_env())
            with process, pinned(load_cpus(spec.cpus)):
                try:
                    rate = websocket_echo(port, seconds)
                except (TransferError, OSError) as error:
                    print(f"  {name}: WebSocket echo failed ({error})", file=sys.stderr)
                    continue
            results[name] = max(results.get(name, 0.0), rate)
    return results


def hello_world(names: list[str], seconds: float, warmup: float, rounds: int) -> dict[str, Any]:
    targets = [
        Target(name, spec, "hello:asgi_app" if spec.asgi else "hello:app")
        for name, spec in ((name, ASGI_SERVERS[name]) for name in names)
    ]
    measured = measure_in_turns(
        targets, [SCENARIOS["c50"]], seconds=seconds, warmup=warmup, rounds=rounds
    )
    return {name: measured[name] for name in names}


def stream_once(spec: ServerSpec, size: int, limit: float) -> dict[str, float]:
    app = "stream:asgi_app" if spec.asgi else "stream:app"
    figures: dict[str, float] = {}
    for direction, transfer in (("upload", upload), ("download", download)):
        port = free_port()  # a fresh process per direction: VmHWM is that transfer's peak
        command = spec.argv(app, port, spec.stream_options)
        with ServerProcess(command, port, cpus=spec.cpus, env=server_env()) as server:
            with pinned(load_cpus(spec.cpus)):
                seconds = transfer(port, size, limit)
            figures[f"{direction}_peak_mib"] = server.memory_kib(peak=True) / 1024
        figures[f"{direction}_mib_per_s"] = size / MIB / seconds
    return figures


def streaming(names: list[str], size: int, limit: float, rounds: int) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for _ in range(rounds):
        for name in names:
            if "failed" in results.get(name, {}):
                continue
            try:
                figures = stream_once(ASGI_SERVERS[name], size, limit)
            except (TransferError, OSError) as error:
                results[name] = {"failed": f"{type(error).__name__}: {error}"}
                continue
            best = results.setdefault(name, figures)
            for key, value in figures.items():  # the fastest round; the highest peak
                best[key] = max(best[key], value)
    return results


def print_table(
    hello: dict[str, Any], streamed: dict[str, Any], echoes: dict[str, float], size: int
) -> None:
    reference = hello.get("uvicorn-httptools", {}).get("c50", {}).get("requests_per_second")
    print(f"{'server':<20}{'hello c50 req/s':>16}{'x uvicorn':>10}", end="")
    print(f"{'up MiB/s':>10}{'peak':>7}{'down MiB/s':>12}{'peak':>7}{'ws echo/s':>11}", end="")
    print(f"   ({size // MIB} MiB)")
    for name, figures in hello.items():
        if "c50" not in figures:
            print(f"{name:<20}  {figures.get('skipped') or figures.get('failed')}")
            continue
        rate = figures["c50"]["requests_per_second"]
        ratio = f"{rate / reference:.2f}" if reference else "-"
        print(f"{name:<20}{rate:>16.0f}{ratio:>10}", end="")
        moved = streamed.get(name, {})
        if "upload_mib_per_s" in moved:
            print(
                f"{moved['upload_mib_per_s']:>10.0f}{moved['upload_peak_mib']:>7.0f}"
                f"{moved['download_mib_per_s']:>12.0f}{moved['download_peak_mib']:>7.0f}",
                end="",
            )
        else:
            print(f"  {moved.get('failed', '')}", end="")
        print(f"{echoes[name]:>11.0f}" if name in echoes else "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a seconds-long smoke run")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per wrk run")
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--size-mib", type=int, default=1024, help="streamed bytes each way")
    parser.add_argument("--limit", type=float, default=300.0, help="seconds per transfer")
    parser.add_argument("--only", action="append", choices=sorted(ASGI_SERVERS))
    options = parser.parse_args(argv)
    if options.quick:
        options.duration, options.warmup, options.rounds, options.size_mib = 1.0, 0.2, 1, 16
    names = options.only or [*DEFAULT_SERVERS, REFERENCE]
    available = []
    for name in names:
        missing = missing_modules(ASGI_SERVERS[name])
        if missing:
            print(f"  {name}: skipped (needs {', '.join(missing)})", file=sys.stderr)
        else:
            available.append(name)
    if shutil.which("wrk") is None:
        print("  wrk is not installed: hello world skipped", file=sys.stderr)
        hello: dict[str, Any] = {name: {"skipped": "no wrk"} for name in available}
    else:
        hello = hello_world(available, options.duration, options.warmup, options.rounds)
    size = options.size_mib * MIB
    streamed = streaming(available, size, options.limit, options.rounds)
    echoes = websocket_figures(available, options.duration, options.rounds)
    print_table(hello, streamed, echoes, size)
    return 0


if __name__ == "__main__":
    sys.exit(main())
