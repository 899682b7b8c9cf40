"""Hello-world throughput of httpkit beside waitress, gunicorn (gthread) and cheroot.

Each server runs the same WSGI application (``app`` below) in its own process pinned to
core 0; wrk runs pinned to core 1 with 50 keep-alive connections.  The table gives
requests per second and the 99th-percentile latency, with ratios to waitress measured in
the same run.  Then httpkit's resident memory with 10,000 idle keep-alive connections
open, and how fast a new request is answered meanwhile.

    pip install waitress gunicorn cheroot     # the peers (a missing one is skipped)
    apt-get install wrk                       # the load generator
    python bench/server.py                    # a full run (about a minute)
    python bench/server.py --quick            # a seconds-long smoke run for CI

The script installs nothing itself.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
BODY = b"Hello, world!"
CONNECTIONS = 50


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """The application every server runs (imported by them as ``server:app``)."""
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "13")])
    return [BODY]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def server_commands(port: int) -> dict[str, tuple[str, list[str]]]:
    """name -> (module that must be importable, command line)."""
    python = sys.executable
    address = f"127.0.0.1:{port}"
    httpkit = [python, "-m", "httpkit", "serve", "server:app", "--port", str(port)]
    quiet = ["--log-level", "warning"]
    return {
        "httpkit --threads 0": ("httpkit", [*httpkit, "--threads", "0", *quiet]),
        "httpkit (4 threads)": ("httpkit", [*httpkit, *quiet]),
        "waitress (4 threads)": ("waitress", [python, "-m", "waitress", f"--listen={address}",
                                              "--threads=4", "server:app"]),
        "gunicorn gthread (4)": ("gunicorn", [python, "-m", "gunicorn", "-k", "gthread",
                                              "--threads", "4", "-w", "1", "-b", address,
                                              "--log-level", "warning", "server:app"]),
        "cheroot": ("cheroot", [python, "-m", "cheroot", "--bind", address, "server:app"]),
    }  # fmt: skip


def start_server(command: list[str], port: int) -> subprocess.Popen[bytes]:
    pinned = ["taskset", "-c", "0", *command] if shutil.which("taskset") else command
    # Logs go to a file: a pipe nobody reads would fill up and stall a chatty server.
    log = tempfile.TemporaryFile()  # noqa: SIM115 (lives as long as the server process)
    process = subprocess.Popen(pinned, cwd=HERE, stdout=subprocess.DEVNULL, stderr=log)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.seek(0)
            raise RuntimeError(f"{command[:4]} exited: {log.read().decode()[-2000:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"{command[:4]} did not listen within 15 s")


def stop_server(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


def parse_latency(text: str) -> float:
    """wrk's "3.21ms" / "850.00us" / "1.02s" in milliseconds."""
    match = re.fullmatch(r"([\d.]+)(us|ms|s)", text)
    if match is None:
        raise ValueError(f"unexpected latency {text!r}")
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[match.group(2)]
    return float(match.group(1)) * scale


def run_wrk(port: int, seconds: float) -> dict[str, float]:
    command = ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{max(1, round(seconds))}s", "--latency",
               f"http://127.0.0.1:{port}/"]  # fmt: skip
    if shutil.which("taskset"):
        command = ["taskset", "-c", "1", *command]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    p99 = re.search(r"\s99%\s+(\S+)", output)
    if rate is None or p99 is None:
        raise RuntimeError(f"cannot read wrk's output:\n{output}")
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {
        "rps": float(rate.group(1)),
        "p99_ms": parse_latency(p99.group(1)),
        "errors": float(errors.group(1)) if errors else 0.0,
    }


def measure_throughput(seconds: float) -> dict[str, dict[str, float]]:
    results: dict[str, dict[str, float]] = {}
    for name in server_commands(0):
        port = free_port()  # a fresh port: never wait for the previous one's TIME_WAIT
        module, command = server_commands(port)[name]
        if importlib.util.find_spec(module) is None:
            print(f"  {name}: skipped ({module} is not installed)", file=sys.stderr)
            continue
        process = start_server(command, port)
        try:
            run_wrk(port, 1)  # warm-up
            results[name] = run_wrk(port, seconds)
        finally:
            stop_server(process)
        print(f"  {name}: {results[name]['rps']:.0f} req/s", file=sys.stderr)
    return results


def print_throughput(results: dict[str, dict[str, float]]) -> None:
    base = results.get("waitress (4 threads)")
    print(f"\nHello world, {CONNECTIONS} keep-alive connections, server on core 0, wrk on core 1")
    print(f"{'server':<24}{'req/s':>10}{'p99 ms':>10}{'x waitress':>12}{'p99 vs w.':>11}")
    for name, result in results.items():
        ratio = f"{result['rps'] / base['rps']:.2f}x" if base else "-"
        p99_ratio = f"{result['p99_ms'] / base['p99_ms']:.2f}x" if base else "-"
        errors = f"  ({result['errors']:.0f} errors)" if result["errors"] else ""
        print(f"{name:<24}{result['rps']:>10.0f}{result['p99_ms']:>10.2f}{ratio:>12}"
              f"{p99_ratio:>11}{errors}")  # fmt: skip


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


async def open_idle_connections(port: int, count: int) -> list[asyncio.StreamWriter]:
    """``count`` connections that each made one request and now sit idle."""
    request = b"GET / HTTP/1.1\r\nHost: bench\r\n\r\n"
    writers: list[asyncio.StreamWriter] = []
    limit = asyncio.Semaphore(100)

    async def one() -> None:
        async with limit:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(request)
            await reader.readuntil(BODY)
            writers.append(writer)

    await asyncio.gather(*(one() for _ in range(count)))
    return writers


def new_request_ms(port: int, count: int = 20) -> list[float]:
    times = []
    for _ in range(count):
        started = time.perf_counter()
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
            data = b""
            while BODY not in data:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                data += chunk
        times.append((time.perf_counter() - started) * 1000)
    return times


def measure_idle_memory(count: int) -> None:
    port = free_port()
    command = [sys.executable, "-m", "httpkit", "serve", "server:app", "--port", str(port),
               "--log-level", "warning", "--max-connections", str(count + 100),
               "--keepalive-timeout", "600"]  # fmt: skip
    process = start_server(command, port)
    try:
        before = rss_mib(process.pid)
        loop = asyncio.new_event_loop()
        writers = loop.run_until_complete(open_idle_connections(port, count))
        time.sleep(0.5)
        after = rss_mib(process.pid)
        latencies = new_request_ms(port)
        for writer in writers:
            writer.close()
        loop.close()
    finally:
        stop_server(process)
    print(f"\nhttpkit (4 threads) with {count:,} idle keep-alive connections")
    print(f"  resident memory: {before:.1f} MiB before, {after:.1f} MiB with them open")
    print(f"  a new request meanwhile: median {statistics.median(latencies):.2f} ms, "
          f"max {max(latencies):.2f} ms")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per wrk run")
    parser.add_argument("--quick", action="store_true", help="a seconds-long smoke run")
    parser.add_argument("--idle", type=int, default=10_000, help="idle connections to hold")
    options = parser.parse_args()
    if options.quick:
        options.duration, options.idle = 1.0, 1000
    if shutil.which("wrk") is None:
        print("wrk is not installed (apt-get install wrk): throughput skipped", file=sys.stderr)
    else:
        print_throughput(measure_throughput(options.duration))
    measure_idle_memory(options.idle)
    return 0


if __name__ == "__main__":
    os.chdir(HERE)
    sys.exit(main())
