"""HTTP/1.1 pipelining: h2load with 16 requests in flight per connection, hello world.

A server that answers pipelined requests one read at a time, or serialises them through
a thread pool, shows it here.  Every server runs in its own process pinned to core 0;
h2load (Debian package ``nghttp2-client``) runs pinned to core 1.  A failed or non-2xx
answer is counted and reported: a fast wrong answer is not a result.  The servers take
turns for two rounds (``--rounds``) and each keeps its better one.

    python bench/pipelining.py            # full run (about a minute)
    python bench/pipelining.py --quick    # a seconds-long smoke run for CI
"""

from __future__ import annotations

import shutil
import sys
from typing import Any

from harness.h2load import H2loadError, run_h2load
from harness.loadtest import check_answer, load_cpus, load_options
from harness.processes import ServerProcess, free_port
from harness.servers import SERVERS, ServerSpec, missing_modules, server_env

PIPELINE_SERVERS = (
    "httpkit-t0",
    "httpkit",
    "waitress",
    "gunicorn-gthread",
    "cheroot",
    "uvicorn",
    "asyncio-canned",
)
CONNECTIONS = 50
DEPTH = 16
RPS = "requests_per_second"


def measure_one(spec: ServerSpec, seconds: float, warmup: float) -> dict[str, Any]:
    port = free_port()
    app = "hello:asgi_app" if spec.asgi else "hello:app"
    with ServerProcess(spec.argv(app, port), port, cpus=spec.cpus, env=server_env()):
        check_answer(port, "/")
        result = run_h2load(
            f"http://127.0.0.1:{port}/",
            connections=CONNECTIONS,
            depth=DEPTH,
            seconds=seconds,
            warmup=warmup,
            cpus=load_cpus(spec.cpus),
        )
    return result.as_dict()


def measure(
    seconds: float,
    warmup: float,
    rounds: int = 1,
    names: tuple[str, ...] = PIPELINE_SERVERS,
) -> Any:
    """Figures per server (its best of ``rounds`` turns); {"skipped": why} without h2load."""
    if shutil.which("h2load") is None:
        return {"skipped": "h2load is not installed (Debian package nghttp2-client)"}
    results: dict[str, Any] = {}
    for name in names:
        missing = missing_modules(SERVERS[name])
        results[name] = {"skipped": f"needs {', '.join(missing)}"} if missing else {}
    for _ in range(rounds):  # the servers take turns, as in harness.loadtest
        for name in names:
            if "skipped" in results[name] or "failed" in results[name]:
                continue
            try:
                figures = measure_one(SERVERS[name], seconds, warmup)
            except H2loadError as error:
                results[name] = {"failed": str(error).splitlines()[0]}
                continue
            best = results[name].get(RPS, -1.0)
            if figures[RPS] > best:
                results[name] = figures
            print(f"  {name:<18} {figures[RPS]:>9.0f} req/s", file=sys.stderr)
    return results


def main(argv: list[str] | None = None) -> int:
    seconds, warmup, rounds = load_options(__doc__.splitlines()[0], argv, rounds=2)
    results = measure(seconds, warmup, rounds)
    if "skipped" in results:
        print(f"pipelining: skipped ({results['skipped']})")
        return 0
    print(f"{CONNECTIONS} connections, {DEPTH} requests in flight on each")
    print(f"{'server':<18}{'req/s':>10}{'mean ms':>9}{'failed':>8}{'non-2xx':>9}")
    for name, figures in results.items():
        if "requests_per_second" not in figures:
            print(f"{name:<18}  {figures.get('skipped') or figures.get('failed')}")
            continue
        print(
            f"{name:<18}{figures['requests_per_second']:>10.0f}{figures['mean_ms']:>9.2f}"
            f"{figures['failed']:>8}{figures['non_2xx']:>9}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
