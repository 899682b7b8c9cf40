"""Hello-world server throughput and latency beside the peers; idle-connection memory.

Every server runs the same hello-world app (``bench/apps/hello.py``; uvicorn runs its ASGI
twin) in its own process pinned to core 0, with wrk pinned to core 1, under four loads:
1, 50 and 500 keep-alive connections, and 50 connections that open a new connection per
request.  The servers: httpkit (``--threads 0``, default, ``--workers 2`` when the CLI has
it), waitress, gunicorn (sync and gthread), cheroot, uvicorn with httptools (the asyncio
reference) and a bare asyncio protocol writing a canned response (the ceiling).  Then
each server's resident memory with 10,000 idle keep-alive connections open, and how fast
a new request is answered meanwhile.

    python bench/server.py                        # full run (about 8 minutes)
    python bench/server.py --quick                # a seconds-long smoke run for CI
    python bench/server.py --only httpkit --only waitress --duration 3
    BENCH_BASELINE=../old-checkout python bench/server.py --only httpkit \
        --only httpkit@base                # a change against another revision, one run

Servers that are not importable, and a missing wrk, are skipped with a message; the
script installs nothing (``bench/run`` does).
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import shutil
import socket
import statistics
import sys
import time
from typing import Any

from harness.loadtest import SCENARIOS, Target, check_answer, measure_in_turns
from harness.processes import ServerProcess, free_port
from harness.servers import SERVERS, ServerSpec, httpkit_has_workers, missing_modules, server_env

BODY = b"Hello, world!"
IDLE_SERVERS = ("httpkit-t0", "httpkit", "waitress", "gunicorn-gthread", "cheroot", "uvicorn")


def app_for(spec: ServerSpec) -> str:
    return "hello:asgi_app" if spec.asgi else "hello:app"


def unavailable(spec: ServerSpec) -> str | None:
    """Why ``spec`` cannot run here, or None."""
    missing = missing_modules(spec)
    if missing:
        return f"needs {', '.join(missing)}"
    if spec.name == "httpkit-w2" and not httpkit_has_workers():
        return "this httpkit has no --workers setting"
    return None


def measure_throughput(
    names: list[str], scenarios: list[str], seconds: float, warmup: float, rounds: int = 1
) -> dict[str, Any]:
    """{server: {scenario: wrk figures}} or {server: {"skipped"/"failed": why}}."""
    targets = []
    results: dict[str, Any] = {}
    for name in names:
        spec = SERVERS[name]
        reason = unavailable(spec)
        if reason is not None:
            results[name] = {"skipped": reason}
            print(f"  {name}: skipped ({reason})", file=sys.stderr)
        targets.append(Target(name, spec, app_for(spec)))
    measured = measure_in_turns(
        [target for target in targets if target.name not in results],
        [SCENARIOS[scenario] for scenario in scenarios],
        seconds=seconds,
        warmup=warmup,
        rounds=rounds,
    )
    return {name: results.get(name) or measured[name] for name in names}


async def open_idle_connections(port: int, count: int, limit: float) -> list[socket.socket]:
    """``count`` connections that each made one request and now sit idle."""
    request = b"GET / HTTP/1.1\r\nHost: bench\r\n\r\n"
    loop = asyncio.get_running_loop()
    gate = asyncio.Semaphore(200)  # at most 200 handshakes in flight: no SYN flood

    async def one() -> socket.socket:
        async with gate:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setblocking(False)
            await loop.sock_connect(sock, ("127.0.0.1", port))
            await loop.sock_sendall(sock, request)
            answer = b""
            while BODY not in answer:
                piece = await loop.sock_recv(sock, 4096)
                if not piece:
                    raise ConnectionError("closed before answering")
                answer += piece
            return sock

    tasks = [asyncio.ensure_future(one()) for _ in range(count)]
    done, pending = await asyncio.wait(tasks, timeout=limit)
    for task in pending:
        task.cancel()
    opened = [task.result() for task in done if not task.cancelled() and not task.exception()]
    if len(opened) == count:
        return opened
    for sock in opened:
        sock.close()
    errors = {repr(task.exception()) for task in done if task.exception() is not None}
    why = ", ".join(sorted(errors)[:2]) or f"timed out after {limit} s"
    raise ConnectionError(f"only {len(opened):,} of {count:,} connections served ({why})")


def new_request_ms(port: int, count: int) -> list[float]:
    """Milliseconds for a new connection's request, while the idle ones stay open."""
    times = []
    for _ in range(count):
        started = time.perf_counter()
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
            answer = b""
            while BODY not in answer:
                piece = sock.recv(4096)
                if not piece:
                    break
                answer += piece
        times.append((time.perf_counter() - started) * 1000)
    return times


def raise_file_limit(needed: int) -> None:
    """Each idle connection is a descriptor here and one in the server (which inherits
    this limit): both processes need room for ``count`` of them."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        if hard != resource.RLIM_INFINITY and hard < needed:
            raise OSError(f"needs {needed} open files; the hard limit is {hard}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))


def measure_idle_one(spec: ServerSpec, count: int) -> dict[str, float]:
    port = free_port()
    command = spec.argv(app_for(spec), port, spec.idle_options)
    with ServerProcess(command, port, cpus=spec.cpus, env=server_env()) as server:
        check_answer(port, "/")
        before = server.memory_kib()
        sockets = asyncio.run(open_idle_connections(port, count, limit=120))
        try:
            time.sleep(0.5)  # let the server settle its per-connection state
            after = server.memory_kib()
            latencies = new_request_ms(port, 20)
        finally:
            for sock in sockets:
                sock.close()
    return {
        "connections": count,
        "rss_before_mib": before / 1024,
        "rss_idle_mib": after / 1024,
        "kib_per_connection": (after - before) / count,
        "new_request_median_ms": statistics.median(latencies),
        "new_request_max_ms": max(latencies),
    }


def measure_idle(names: list[str], count: int) -> dict[str, Any]:
    raise_file_limit(count + 1024)
    results: dict[str, Any] = {}
    for name in names:
        spec = SERVERS[name]
        reason = unavailable(spec)
        if reason is None and name not in IDLE_SERVERS:
            reason = "not measured (no keep-alive, or no setting to hold that many)"
        if reason is not None:
            results[name] = {"skipped": reason}
            continue
        try:
            results[name] = measure_idle_one(spec, count)
        except (OSError, TimeoutError, RuntimeError) as error:
            results[name] = {"failed": f"{type(error).__name__}: {error}".splitlines()[0]}
        print(f"  {name:<18} idle: {results[name]}", file=sys.stderr)
    return results


def print_throughput(results: dict[str, Any], scenarios: list[str]) -> None:
    print("\nHello world, requests/s (p99 ms); server on core 0, wrk on core 1")
    print(f"{'server':<18}" + "".join(f"{SCENARIOS[name].name:>20}" for name in scenarios))
    for name, figures in results.items():
        if scenarios[0] not in figures:
            print(f"{name:<18}  {figures.get('skipped') or figures.get('failed')}")
            continue
        cells = "".join(
            f"{figures[s]['requests_per_second']:>11.0f} ({figures[s]['p99_ms']:>6.2f})"
            for s in scenarios
        )
        print(f"{name:<18}{cells}")


def print_idle(results: dict[str, Any]) -> None:
    print("\nIdle keep-alive connections: resident memory (MiB) and a new request's latency")
    print(f"{'server':<18}{'before':>8}{'idle':>8}{'KiB/conn':>10}{'new ms p50':>12}")
    for name, figures in results.items():
        if "rss_idle_mib" not in figures:
            print(f"{name:<18}  {figures.get('skipped') or figures.get('failed')}")
            continue
        print(
            f"{name:<18}{figures['rss_before_mib']:>8.1f}{figures['rss_idle_mib']:>8.1f}"
            f"{figures['kib_per_connection']:>10.1f}{figures['new_request_median_ms']:>12.2f}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a seconds-long smoke run")
    parser.add_argument("--duration", type=float, default=3.0, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=3, help="turns each server takes")
    parser.add_argument("--idle", type=int, default=10_000, help="idle connections to hold")
    parser.add_argument("--only", action="append", choices=sorted(SERVERS), help="servers")
    options = parser.parse_args(argv)
    names = options.only or list(SERVERS)
    scenarios = list(SCENARIOS)
    seconds, warmup = options.duration, 1.0
    if options.quick:
        scenarios, seconds, warmup, options.idle, options.rounds = ["c50"], 1.0, 0.0, 500, 1
    if shutil.which("wrk") is None:
        print("wrk is not installed (apt-get install wrk): throughput skipped")
    else:
        results = measure_throughput(names, scenarios, seconds, warmup, options.rounds)
        print_throughput(results, scenarios)
    idle_names = ["httpkit"] if options.quick else names
    if options.idle > 0:  # --idle 0: throughput only
        print_idle(measure_idle(idle_names, options.idle))
    return 0


if __name__ == "__main__":
    sys.exit(main())
