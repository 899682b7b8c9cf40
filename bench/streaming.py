"""Streaming: 1 GiB upload and download throughput, and the server's peak memory.

Each server serves ``bench/apps/stream.py`` (which holds at most 64 KiB at a time) in a
fresh process pinned to core 0; the client here, pinned to core 1, sends a 1 GiB body
with a Content-Length and reads the byte count back, then, to a second fresh process,
asks for 1 GiB and reads it.  Peak memory is the server processes' VmHWM (resident
high-water mark) after the transfer: a server that buffers a whole body shows it there.
The servers take turns for two rounds (``--rounds``): the faster throughput and the
higher peak of the rounds are kept.

    python bench/streaming.py              # full run: 1 GiB each way (about a minute)
    python bench/streaming.py --quick      # 64 MiB each way, for CI
    python bench/streaming.py --size-mib 256
    BENCH_BASELINE=../old-checkout python bench/streaming.py --only httpkit \
        --only httpkit@base                # a change against another revision, one run
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from harness.loadtest import load_cpus
from harness.processes import ServerProcess, free_port
from harness.servers import SERVERS, ServerSpec, missing_modules, server_env

STREAMING_SERVERS = ("httpkit-t0", "httpkit", "waitress", "gunicorn-gthread", "cheroot")
BLOCK = 1 << 20  # the client sends and receives in 1 MiB pieces
MIB = 1 << 20


class TransferError(RuntimeError):
    """A transfer gave the wrong answer or overran its time limit."""


@contextmanager
def pinned(cpus: str | None) -> Iterator[None]:
    """Run the client on the load generator's cores, then restore its affinity."""
    if cpus is None:
        yield
        return
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {int(cpu) for cpu in cpus.split(",")})
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


def read_head(sock: socket.socket, deadline: float) -> tuple[int, dict[str, str], bytes]:
    """Status, lower-cased headers, and whatever body bytes came with the head."""
    data = b""
    while b"\r\n\r\n" not in data:
        if time.monotonic() > deadline or len(data) > 65536:
            raise TransferError("no complete response head")
        piece = sock.recv(65536)
        if not piece:
            raise TransferError(f"connection closed before the head: {data[:200]!r}")
        data += piece
    head, rest = data.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(lines[0].split()[1]), headers, rest


def upload(port: int, size: int, limit: float) -> float:
    """Send ``size`` bytes as one request body; seconds until the answer came back."""
    block = memoryview(b"u" * BLOCK)
    started = time.monotonic()
    deadline = started + limit
    with socket.create_connection(("127.0.0.1", port), timeout=limit) as sock:
        head = f"POST /upload HTTP/1.1\r\nHost: bench\r\nContent-Length: {size}\r\n\r\n"
        sock.sendall(head.encode())
        left = size
        while left > 0:
            if time.monotonic() > deadline:
                raise TransferError(f"upload overran {limit} s")
            sock.sendall(block[: min(BLOCK, left)])
            left -= min(BLOCK, left)
        status, _, body = read_head(sock, deadline)
        while len(body) < len(str(size)) and time.monotonic() < deadline:
            piece = sock.recv(64)
            if not piece:
                break
            body += piece
    if status != 200 or body != str(size).encode():
        raise TransferError(f"upload answered {status} {body[:80]!r}")
    return time.monotonic() - started


def download(port: int, size: int, limit: float) -> float:
    """Receive ``size`` bytes as one response body; seconds from request to last byte."""
    buffer = bytearray(BLOCK)
    started = time.monotonic()
    deadline = started + limit
    with socket.create_connection(("127.0.0.1", port), timeout=limit) as sock:
        sock.sendall(f"GET /download/{size} HTTP/1.1\r\nHost: bench\r\n\r\n".encode())
        status, headers, rest = read_head(sock, deadline)
        if status != 200 or headers.get("content-length") != str(size):
            raise TransferError(f"download answered {status} {headers}")
        received = len(rest)
        while received < size:
            if time.monotonic() > deadline:
                raise TransferError(f"download overran {limit} s")
            count = sock.recv_into(buffer)
            if count == 0:
                raise TransferError(f"connection closed after {received} of {size} bytes")
            received += count
    return time.monotonic() - started


def measure_one(spec: ServerSpec, size: int, limit: float) -> dict[str, float]:
    figures: dict[str, float] = {}
    for direction, transfer in (("upload", upload), ("download", download)):
        port = free_port()  # a fresh process per direction: VmHWM is that transfer's peak
        command = spec.argv("stream:app", port, spec.stream_options)
        with ServerProcess(command, port, cpus=spec.cpus, env=server_env()) as server:
            idle_kib = server.memory_kib()
            with pinned(load_cpus(spec.cpus)):
                seconds = transfer(port, size, limit)
            peak_kib = server.memory_kib(peak=True)
        figures[f"{direction}_mib_per_s"] = size / MIB / seconds
        figures[f"{direction}_peak_mib"] = peak_kib / 1024
        figures[f"{direction}_idle_mib"] = idle_kib / 1024
    return figures


def keep_best(best: dict[str, float] | None, figures: dict[str, float]) -> dict[str, float]:
    """The faster round's throughput per direction; the highest peak memory of all rounds."""
    if best is None:
        return figures
    merged = dict(best)
    for direction in ("upload", "download"):
        speed = f"{direction}_mib_per_s"
        merged[speed] = max(best[speed], figures[speed])
        peak = f"{direction}_peak_mib"
        merged[peak] = max(best[peak], figures[peak])
    return merged


def measure(
    size: int, limit: float, rounds: int = 1, names: tuple[str, ...] = STREAMING_SERVERS
) -> dict[str, Any]:
    """Figures per server, or {"skipped"/"failed": why}; the servers take turns."""
    results: dict[str, Any] = {}
    for name in names:
        missing = missing_modules(SERVERS[name])
        results[name] = {"skipped": f"needs {', '.join(missing)}"} if missing else None
    for _ in range(rounds):
        for name in names:
            if results[name] is not None and (
                "skipped" in results[name] or "failed" in results[name]
            ):
                continue
            try:
                figures = measure_one(SERVERS[name], size, limit)
            except (TransferError, OSError) as error:  # OSError: e.g. the server reset us
                results[name] = {"failed": f"{type(error).__name__}: {error}"}
                print(f"  {name}: failed ({error})", file=sys.stderr)
                continue
            results[name] = keep_best(results[name], figures)
            print(
                f"  {name:<18} up {figures['upload_mib_per_s']:7.0f} MiB/s"
                f" (peak {figures['upload_peak_mib']:.0f} MiB)"
                f"  down {figures['download_mib_per_s']:7.0f} MiB/s"
                f" (peak {figures['download_peak_mib']:.0f} MiB)",
                file=sys.stderr,
            )
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="64 MiB each way, for CI")
    parser.add_argument("--size-mib", type=int, default=1024, help="bytes each way, in MiB")
    parser.add_argument("--limit", type=float, default=120.0, help="seconds per transfer")
    parser.add_argument("--rounds", type=int, default=2, help="turns each server takes")
    parser.add_argument("--only", action="append", choices=sorted(SERVERS), help="servers")
    options = parser.parse_args(argv)
    if options.size_mib < 1:
        parser.error("--size-mib must be at least 1")
    size = (64 if options.quick else options.size_mib) * MIB
    names = tuple(options.only) if options.only else STREAMING_SERVERS
    results = measure(size, options.limit, 1 if options.quick else options.rounds, names)
    print(f"{size // MIB} MiB each way")
    print(f"{'server':<18}{'up MiB/s':>10}{'peak MiB':>10}{'down MiB/s':>12}{'peak MiB':>10}")
    for name, figures in results.items():
        if "upload_mib_per_s" not in figures:
            print(f"{name:<18}  {figures.get('skipped') or figures.get('failed')}")
            continue
        print(
            f"{name:<18}{figures['upload_mib_per_s']:>10.0f}{figures['upload_peak_mib']:>10.0f}"
            f"{figures['download_mib_per_s']:>12.0f}{figures['download_peak_mib']:>10.0f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
