"""httpkit's ASGI edge beside uvicorn (httptools and h11) and hypercorn, in one run.

Every server runs on asyncio's own loop (the same loop for all) and serves the same
apps: the hello world of ``bench/apps/hello.py`` over 50 keep-alive connections (wrk),
then a 1 GiB request body and a 1 GiB response body streamed through
``bench/apps/stream.py`` (throughput, and the peak memory that shows a server buffering
what it should stream).  httpkit's WSGI edge (``--threads 0``) runs the WSGI twins of the
apps beside them, for reference.  The servers take turns, each keeping its best round.

    python bench/asgi.py                       # full run
    python bench/asgi.py --quick               # a seconds-long smoke run
    python bench/asgi.py --only httpkit-asgi --only uvicorn-httptools --duration 5

Instructions per request, which the machine's load does not move, are in
``bench/callgrind.py``.  Servers that are not importable, and a missing wrk, are
skipped with a message; the script installs nothing (``bench/run`` does).
"""

from __future__ import annotations

import argparse
import shutil
import sys
from typing import Any

from harness.loadtest import SCENARIOS, Target, load_cpus, measure_in_turns
from harness.processes import ServerProcess, free_port
from harness.servers import ASGI_SERVERS, ServerSpec, missing_modules, server_env
from streaming import MIB, TransferError, download, pinned, upload

DEFAULT_SERVERS = ("httpkit-asgi", "uvicorn-httptools", "uvicorn-h11", "hypercorn")
REFERENCE = "httpkit-t0-wsgi"


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


def print_table(hello: dict[str, Any], streamed: dict[str, Any], size: int) -> None:
    reference = hello.get("uvicorn-httptools", {}).get("c50", {}).get("requests_per_second")
    print(f"{'server':<20}{'hello c50 req/s':>16}{'x uvicorn':>10}", end="")
    print(f"{'up MiB/s':>10}{'peak':>7}{'down MiB/s':>12}{'peak':>7}   ({size // MIB} MiB)")
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
                f"{moved['download_mib_per_s']:>12.0f}{moved['download_peak_mib']:>7.0f}"
            )
        else:
            print(f"  {moved.get('failed', '')}")


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
    print_table(hello, streamed, size)
    return 0


if __name__ == "__main__":
    sys.exit(main())
